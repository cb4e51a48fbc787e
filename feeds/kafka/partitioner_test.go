package kafka

import (
	"fmt"
	"math/rand/v2"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// Java's Utils.murmur2 test vectors (org.apache.kafka.common.utils.UtilsTest).
func TestMurmur2JavaVectors(t *testing.T) {
	cases := []struct {
		in   string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	}
	for _, c := range cases {
		if got := int32(murmur2([]byte(c.in))); got != c.want {
			t.Errorf("murmur2(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestHashVectors(t *testing.T) {
	// CRC-32/IEEE check value, and librdkafka's partition of it.
	if got := (CRC32{}).Partition([]byte("123456789"), 1<<31-1); got != int(0xCBF43926%uint32(1<<31-1)) {
		t.Errorf("crc32 partition = %d", got)
	}
	// FNV-1a 32 reference values (Fowler/Noll/Vo test suite).
	for in, want := range map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "foobar": 0xbf9cf968} {
		if got := fnv1a32([]byte(in)); got != want {
			t.Errorf("fnv1a32(%q) = %#x, want %#x", in, got, want)
		}
	}
}

// The partitioners must agree with kafka-go's own balancers (which in turn
// match librdkafka, Java and Sarama) on every key and partition count.
func TestPartitionersMatchKafkaGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := [][]byte{{}, []byte("91350100M0001TGQXM"), []byte("92370983MAGMY08P7N")}
	for range 2000 {
		k := make([]byte, r.IntN(40))
		for i := range k {
			k[i] = byte(r.IntN(256))
		}
		keys = append(keys, k)
	}
	for _, n := range []int{1, 2, 3, 7, 12, 64, 100} {
		parts := make([]int, n)
		for i := range parts {
			parts[i] = i
		}
		for _, k := range keys {
			msg := kafkago.Message{Key: k}
			if got, want := (CRC32{}).Partition(k, n), (kafkago.CRC32Balancer{Consistent: true}).Balance(msg, parts...); got != want {
				t.Fatalf("crc32 %x n=%d: %d, kafka-go %d", k, n, got, want)
			}
			if got, want := (Murmur2{}).Partition(k, n), (kafkago.Murmur2Balancer{Consistent: true}).Balance(msg, parts...); got != want {
				t.Fatalf("murmur2 %x n=%d: %d, kafka-go %d", k, n, got, want)
			}
			if len(k) > 0 { // kafka-go's Hash sends empty keys round-robin
				if got, want := (FNV1a{}).Partition(k, n), (&kafkago.Hash{}).Balance(msg, parts...); got != want {
					t.Fatalf("fnv1a %x n=%d: %d, kafka-go %d", k, n, got, want)
				}
			}
		}
	}
}

func TestParsePartitioner(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"crc32", "crc32"}, {"MURMUR2", "murmur2"}, {"fnv1a", "fnv1a"}, {"hash", "fnv1a"}} {
		p, err := ParsePartitioner(c.in)
		if err != nil || p.Name() != c.want {
			t.Errorf("ParsePartitioner(%q) = %v, %v", c.in, p, err)
		}
	}
	if _, err := ParsePartitioner("random"); err == nil {
		t.Error("want an error for an unknown partitioner")
	}
}

func TestStickyAssign(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 500 {
		nm, np := 1+r.IntN(6), r.IntN(20)
		parts := make([]int, np)
		for i := range parts {
			parts[i] = i
		}
		var members []string
		owned := map[string][]int{}
		for i := range nm {
			id := fmt.Sprintf("m%d", i)
			members = append(members, id)
			for range r.IntN(np + 1) {
				owned[id] = append(owned[id], r.IntN(np+3)) // includes stale and unknown claims
			}
		}
		got := stickyAssign(members, parts, owned)
		seen := map[int]string{}
		lo, hi := np/nm, (np+nm-1)/nm
		for _, m := range members {
			if n := len(got[m]); n < lo || n > hi {
				t.Fatalf("iter %d: member %s has %d partitions, want %d..%d", iter, m, n, lo, hi)
			}
			for _, p := range got[m] {
				if prev, dup := seen[p]; dup {
					t.Fatalf("iter %d: partition %d given to %s and %s", iter, p, prev, m)
				}
				seen[p] = m
			}
		}
		if len(seen) != np {
			t.Fatalf("iter %d: %d of %d partitions assigned", iter, len(seen), np)
		}
		again := stickyAssign(members, parts, owned)
		if fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("iter %d: not deterministic", iter)
		}
	}
	// Stickiness: a third member joining two members that own 6 each takes
	// 4 partitions and nothing else moves.
	owned := map[string][]int{"a": {0, 1, 2, 3, 4, 5}, "b": {6, 7, 8, 9, 10, 11}}
	got := stickyAssign([]string{"a", "b", "c"}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, owned)
	moved := 0
	for _, m := range []string{"a", "b"} {
		for _, p := range got[m] {
			found := false
			for _, q := range owned[m] {
				found = found || p == q
			}
			if !found {
				t.Fatalf("partition %d moved to %s", p, m)
			}
		}
		moved += len(owned[m]) - len(got[m])
	}
	if moved != 4 || len(got["c"]) != 4 {
		t.Fatalf("moved %d, c has %v", moved, got["c"])
	}
}
