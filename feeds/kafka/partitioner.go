package kafka

import (
	"fmt"
	"hash/crc32"
	"strings"
)

// Partitioner maps a message key to a partition exactly as a family of
// producers does, so that the consumer can check where a key belongs and
// route a query for it to the instance that owns its partition.
type Partitioner interface {
	// Partition returns the partition of key among n partitions (n > 0).
	Partition(key []byte, n int) int
	// Name is the flag value that selects the partitioner.
	Name() string
}

// Partitioner names, as --kafka-partitioner takes them.
const (
	PartitionerCRC32   = "crc32"
	PartitionerMurmur2 = "murmur2"
	PartitionerFNV1a   = "fnv1a"
)

// ParsePartitioner returns the partitioner named name: "crc32" (librdkafka's
// consistent partitioner, used by kcat and by librdkafka-based clients for
// keyed messages), "murmur2" (the Java producer's default partitioner, also
// librdkafka's "murmur2"), or "fnv1a" (kafka-go's Hash balancer and Sarama's
// hash partitioner).
func ParsePartitioner(name string) (Partitioner, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case PartitionerCRC32, "crc-32", "consistent":
		return CRC32{}, nil
	case PartitionerMurmur2, "java":
		return Murmur2{}, nil
	case PartitionerFNV1a, "fnv-1a", "fnv", "hash":
		return FNV1a{}, nil
	}
	return nil, fmt.Errorf("unknown partitioner %q (want crc32, murmur2 or fnv1a)", name)
}

// CRC32 is librdkafka's "consistent" partitioner: the CRC-32 (IEEE) of the
// key, as an unsigned 32-bit number, modulo the partition count.
type CRC32 struct{}

// Partition implements Partitioner.
func (CRC32) Partition(key []byte, n int) int { return int(crc32.ChecksumIEEE(key) % uint32(n)) }

// Name implements Partitioner.
func (CRC32) Name() string { return PartitionerCRC32 }

// Murmur2 is the Java producer's default partitioner for keyed records:
// murmur2 (seed 0x9747b28c) of the key with the sign bit cleared, modulo
// the partition count.
type Murmur2 struct{}

// Partition implements Partitioner.
func (Murmur2) Partition(key []byte, n int) int { return int((murmur2(key) & 0x7fffffff) % uint32(n)) }

// Name implements Partitioner.
func (Murmur2) Name() string { return PartitionerMurmur2 }

// FNV1a is kafka-go's Hash balancer (and Sarama's hash partitioner): the
// 32-bit FNV-1a of the key read as a signed integer, remainder by the
// partition count, negated when negative.
type FNV1a struct{}

// Partition implements Partitioner.
func (FNV1a) Partition(key []byte, n int) int {
	p := int32(fnv1a32(key)) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

// Name implements Partitioner.
func (FNV1a) Name() string { return PartitionerFNV1a }

// murmur2 is Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch n - i {
	case 3:
		h ^= uint32(data[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// fnv1a32 is the 32-bit FNV-1a hash (hash/fnv's New32a, without the
// allocation).
func fnv1a32(data []byte) uint32 {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for _, c := range data {
		h ^= uint32(c)
		h *= prime32
	}
	return h
}
