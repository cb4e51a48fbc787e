package main

import (
	"context"
	"errors"
)

// runKafka is replaced by the Kafka mode (feeds/kafka) in progress.
func runKafka(ctx context.Context, c *common) error {
	return errors.New("--kafka-brokers: Kafka mode is not available in this build")
}
