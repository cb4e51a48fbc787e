package sampler

// Population lines. After the selection pass the keys of each prefix bucket
// are sorted (radix sort: LSD on bytes, skipping bytes all keys share, with
// a per-worker scratch for buckets up to lsdMax keys; an in-place MSD
// "American flag" split above that, so memory stays bounded however the
// population is shaped), then turned into
// `USCC,TIER\n` lines in segments of segKeys keys. Workers format segments
// in parallel; one consumer hashes and writes them in order, with at most
// window segments in flight. The lines are never all in memory: 14M lines
// are ~300 MB, streamed to the caller's writer.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/creditrisk/creditd/models/tier"
)

// segKeys is the number of keys per emitted segment.
const segKeys = 1 << 15

// lsdMax is the largest bucket sorted with LSD and a scratch buffer.
const lsdMax = 1 << 20

// sortKeys sorts a ascending; scratch is reused and grown up to lsdLimit
// keys (lsdMax in draws; tests lower it to exercise the MSD path).
func sortKeys(a []uint64, scratch *[]uint64, lsdLimit int) {
	switch {
	case len(a) <= 48:
		insertionSort(a)
	case len(a) <= 256:
		slices.Sort(a)
	case len(a) < lsd11Min && len(a) <= lsdLimit:
		lsdSort(a, scratch)
	case len(a) <= lsdLimit:
		lsdSort11(a, scratch)
	default:
		msdSort(a, scratch, lsdLimit)
	}
}

func insertionSort(a []uint64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && a[j-1] > v; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// lsdSort is a least-significant-digit radix sort on 8-bit digits that
// skips digits on which all keys agree.
func lsdSort(a []uint64, scratch *[]uint64) {
	var cnt [8][256]int
	for _, v := range a {
		for d := range 8 {
			cnt[d][byte(v>>(8*d))]++
		}
	}
	if cap(*scratch) < len(a) {
		*scratch = make([]uint64, len(a))
	}
	src, dst := a, (*scratch)[:len(a)]
	for d := range 8 {
		c := &cnt[d]
		if c[byte(a[0]>>(8*d))] == len(a) {
			continue // every key has the same digit
		}
		var pos [256]int
		sum := 0
		for i, n := range c {
			pos[i] = sum
			sum += n
		}
		shift := uint(8 * d)
		for _, v := range src {
			b := byte(v >> shift)
			dst[pos[b]] = v
			pos[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// lsd11Min is the smallest bucket sorted on 11-bit digits: a population
// key has 54 significant bits, 5 passes of 11 bits against 7 of 8, but
// the six 2048-entry counts cost more than they save on small buckets.
const lsd11Min = 4096

// lsdSort11 is lsdSort on 11-bit digits.
func lsdSort11(a []uint64, scratch *[]uint64) {
	const bits, digits = 11, 6 // 66 ≥ 64 bits
	var cnt [digits][1 << bits]int32
	for _, v := range a {
		for d := range digits {
			cnt[d][(v>>(bits*d))&(1<<bits-1)]++
		}
	}
	if cap(*scratch) < len(a) {
		*scratch = make([]uint64, len(a))
	}
	src, dst := a, (*scratch)[:len(a)]
	for d := range digits {
		c := &cnt[d]
		shift := uint(bits * d)
		if int(c[(a[0]>>shift)&(1<<bits-1)]) == len(a) {
			continue // every key has the same digit
		}
		var sum int32
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, v := range src {
			b := (v >> shift) & (1<<bits - 1)
			dst[c[b]] = v
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// msdSort splits a in place on its highest varying digit, then sorts each
// part.
func msdSort(a []uint64, scratch *[]uint64, lsdLimit int) {
	for shift := 56; shift >= 0; shift -= 8 {
		var cnt [256]int
		for _, v := range a {
			cnt[byte(v>>uint(shift))]++
		}
		if cnt[byte(a[0]>>uint(shift))] == len(a) {
			continue
		}
		var next, end [256]int
		sum := 0
		for i, n := range cnt {
			next[i] = sum
			sum += n
			end[i] = sum
		}
		for d := range 256 {
			for next[d] < end[d] {
				v := a[next[d]]
				for dv := int(byte(v >> uint(shift))); dv != d; dv = int(byte(v >> uint(shift))) {
					a[next[dv]], v = v, a[next[dv]]
					next[dv]++
				}
				a[next[d]] = v
				next[d]++
			}
		}
		lo := 0
		for _, n := range cnt {
			if n > 1 {
				sortKeys(a[lo:lo+n], scratch, lsdLimit)
			}
			lo += n
		}
		return
	}
}

// sortBuffers are one emitting worker's reusable sort buffers.
type sortBuffers struct {
	gather, scratch []uint64
}

// sortBucket puts bucket b's keys in order. The two passes' buckets are
// slot ranges of pop.keys whose unused slots (sentinels) are moved behind
// the real keys; the single pass's are chunk lists, gathered into the
// worker's buffer, sorted there and written back in order, so the chunks
// themselves become the sorted bucket (no population-sized array).
func sortBucket(pop *population, b int, sb *sortBuffers) {
	if pop.chunks != nil {
		n := int(pop.count[b])
		if cap(sb.gather) < n {
			sb.gather = make([]uint64, n)
		}
		g := sb.gather[:0]
		for _, c := range pop.chunks[b] {
			g = append(g, c...)
		}
		sortKeys(g, &sb.scratch, lsdMax)
		for _, c := range pop.chunks[b] {
			g = g[copy(c, g):]
		}
		return
	}
	keys := pop.keys[pop.off[b] : pop.off[b]+pop.size[b]]
	j := 0
	for _, k := range keys {
		if k != sentinelKey {
			keys[j] = k
			j++
		}
	}
	sortKeys(keys[:j], &sb.scratch, lsdMax)
}

// segment is a run of one bucket's keys, formatted as one unit: a slot
// range of pop.keys (chunk < 0) or one chunk of a chunked bucket.
type segment struct {
	bucket int32
	chunk  int32
	lo, hi int64 // key index range within the bucket (chunk < 0)
	start  int64 // index of the segment's first line in the file
}

// keys returns the segment's keys and the bucket's key before them
// (sentinelKey for the first); valid once the bucket is sorted.
func (pop *population) segKeys(s segment) (keys []uint64, prev uint64) {
	prev = sentinelKey
	if s.chunk >= 0 {
		cs := pop.chunks[s.bucket]
		if s.chunk > 0 {
			p := cs[s.chunk-1]
			prev = p[len(p)-1]
		}
		return cs[s.chunk], prev
	}
	base := pop.off[s.bucket]
	if s.lo > 0 {
		prev = pop.keys[base+s.lo-1]
	}
	return pop.keys[base+s.lo : base+s.hi], prev
}

// segments cuts the population into segments in file order.
func (pop *population) segments() []segment {
	var segs []segment
	var start int64
	for b := range pop.prefixes {
		if pop.chunks != nil {
			for j, c := range pop.chunks[b] {
				segs = append(segs, segment{int32(b), int32(j), 0, 0, start})
				start += int64(len(c))
			}
			continue
		}
		for lo := int64(0); lo < pop.count[b]; lo += segKeys {
			segs = append(segs, segment{int32(b), -1, lo, min(lo+segKeys, pop.count[b]), start + lo})
		}
		start += pop.count[b]
	}
	return segs
}

type segResult struct {
	buf []byte
	err error
}

// emitPopulation sorts the population and writes its lines to w, and
// returns their SHA-256 and length. It fails on a USCC that appears twice.
// A bucket is sorted by the worker that takes its first segment, while
// the consumer hashes and writes earlier segments; the workers taking the
// bucket's later segments wait for that sort.
//
// With a blinding key (draw/v2) the lines are `USCC,XX\n`, XX the hex of
// the tier index XOR the line's mask byte (spec "Population file and
// digest"); without one they are v1's `USCC,TIER\n`.
//
// mem provides the sort buffers (one per worker) and the segments' line
// buffers, which go back to it afterwards.
func emitPopulation(ctx context.Context, pop *population, scheme *tier.Scheme, workers int, mem *drawMem, w io.Writer, blind *[32]byte) ([32]byte, int64, error) {
	segs := pop.segments()
	sorted := make([]chan struct{}, len(pop.prefixes))
	for b := range sorted {
		sorted[b] = make(chan struct{})
	}
	tails := make([][]byte, scheme.Len()) // ",LABEL\n"
	lineMax := 0
	for t, l := range scheme.Labels {
		tails[t] = []byte("," + l + "\n")
		lineMax = max(lineMax, 18+len(tails[t]))
	}
	lineMax = max(lineMax, 22)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := 2 * workers
	tokens := make(chan struct{}, window)
	for range window {
		tokens <- struct{}{}
	}
	slots := make([]chan segResult, window)
	for i := range slots {
		slots[i] = make(chan segResult, 1)
	}
	free := make(chan []byte, window+workers)
	for len(mem.lines) > 0 && len(free) < cap(free) {
		free <- mem.lines[len(mem.lines)-1]
		mem.lines = mem.lines[:len(mem.lines)-1]
	}
	defer func() { // the buffers not in flight go back to mem
		for len(free) > 0 {
			mem.lines = append(mem.lines, <-free)
		}
	}()
	var next atomic.Int64
	wg := &group{stop: cancel}
	for wi := range workers {
		sb := &mem.sorts[wi]
		wg.Go(func() {
			for {
				select {
				case <-tokens:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(segs) {
					return
				}
				if b := segs[i].bucket; segs[i].lo == 0 && segs[i].chunk <= 0 {
					sortBucket(pop, int(b), sb)
					close(sorted[b])
				} else {
					select {
					case <-sorted[b]:
					case <-ctx.Done():
						return
					}
				}
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				keys, prev := pop.segKeys(segs[i])
				// every buffer fits the longest segment (chunkKeys or
				// segKeys keys), so that recycled buffers never grow
				if need := max(len(keys), chunkKeys) * lineMax; cap(buf) < need {
					buf = make([]byte, 0, need)
				}
				pre := pop.prefixes[segs[i].bucket]
				var err error
				if blind != nil {
					buf, err = formatMaskedSegment(buf[:0], keys, prev, pre, segs[i].start, blind)
				} else {
					buf, err = formatSegment(buf[:0], keys, prev, pre, tails)
				}
				slots[i%window] <- segResult{buf, err}
			}
		})
	}
	// the writer: w.Write (for a file, a copy into the page cache) runs
	// beside the hashing of the next segments; a segment's buffer and
	// token come back once it is written. io.Discard needs no goroutine.
	var (
		toWrite   chan []byte
		written   = make(chan struct{})
		writeErr  error
		putBuffer = func(buf []byte) {
			free <- buf
			tokens <- struct{}{}
		}
	)
	if w != io.Discard {
		toWrite = make(chan []byte, window) // at most window segments in flight
		wg.Go(func() {
			defer close(written)
			for buf := range toWrite {
				if writeErr == nil {
					if _, writeErr = w.Write(buf); writeErr != nil {
						cancel()
					}
				}
				putBuffer(buf)
			}
		})
	}
	h := sha256.New()
	var total int64
	var err error
	for i := range segs {
		var r segResult
		select {
		case r = <-slots[i%window]:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err == nil {
			err = r.err
		}
		if err != nil {
			break
		}
		h.Write(r.buf)
		total += int64(len(r.buf))
		if toWrite != nil {
			toWrite <- r.buf
			continue
		}
		putBuffer(r.buf)
	}
	if toWrite != nil {
		close(toWrite)
		<-written
		if writeErr != nil {
			err = writeErr
		}
	}
	cancel()
	wg.Wait()
	var sum [32]byte
	if err != nil {
		return sum, total, err
	}
	h.Sum(sum[:0])
	return sum, total, nil
}

// formatSegment appends the lines of one segment's keys to buf; pre is
// the bucket's prefix, prev the bucket's key before them.
func formatSegment(buf []byte, keys []uint64, prev, pre uint64, tails [][]byte) ([]byte, error) {
	var line [18]byte
	binary.BigEndian.PutUint64(line[:8], pre)
	for _, k := range keys {
		if k>>4 == prev>>4 {
			unpackSuffix(line[8:], k>>4)
			return buf, fmt.Errorf("sampler: the source yielded entity %s more than once", line[:])
		}
		prev = k
		unpackSuffix(line[8:], k>>4)
		buf = append(buf, line[:]...)
		buf = append(buf, tails[k&15]...)
	}
	return buf, nil
}

// maskBlock returns SHA-256("draw/v2/mask" || 0x00 || B || u64(j)): the
// mask bytes of lines 32j … 32j+31 (one SHA-256 block).
func maskBlock(blind *[32]byte, j uint64) [32]byte {
	var buf [13 + 32 + 8]byte
	copy(buf[:], "draw/v2/mask\x00")
	copy(buf[13:], blind[:])
	binary.BigEndian.PutUint64(buf[45:], j)
	return sha256.Sum256(buf[:])
}

const hexDigits = "0123456789abcdef"

// formatMaskedSegment appends the v2 lines of one segment's keys to buf;
// idx is the file index of its first line.
func formatMaskedSegment(buf []byte, keys []uint64, prev, pre uint64, idx int64, blind *[32]byte) ([]byte, error) {
	var line [22]byte
	binary.BigEndian.PutUint64(line[:8], pre)
	line[18], line[21] = ',', '\n'
	var mask [32]byte
	if idx%32 != 0 {
		mask = maskBlock(blind, uint64(idx/32))
	}
	for _, k := range keys {
		unpackSuffix(line[8:18], k>>4)
		if k>>4 == prev>>4 {
			return buf, fmt.Errorf("sampler: the source yielded entity %s more than once", line[:18])
		}
		prev = k
		if idx%32 == 0 {
			mask = maskBlock(blind, uint64(idx/32))
		}
		v := byte(k&15) ^ mask[idx%32]
		line[19], line[20] = hexDigits[v>>4], hexDigits[v&15]
		buf = append(buf, line[:]...)
		idx++
	}
	return buf, nil
}
