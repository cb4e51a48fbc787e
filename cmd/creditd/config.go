package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/creditrisk/creditd/sampler"
)

// Config is creditd's configuration. Every flag can also be set by an
// environment variable CREDITD_<NAME> (--kafka-brokers is
// CREDITD_KAFKA_BROKERS); a flag given on the command line wins.
type Config struct {
	Listen string
	Data   string
	Tokens string
	// AllowSharedTokens accepts a tokens file its group or others may read.
	AllowSharedTokens bool
	Key               string
	KeyAlg            string
	Issuer            string
	IssuerName        string
	Model             string
	Scheme            string
	Exceptions        string

	Demo         bool
	DemoEntities int
	DemoDays     int
	DemoSeed     uint64

	KafkaBrokers   string
	KafkaTopic     string
	KafkaGroup     string
	KafkaTiers     string
	KafkaDLQ       string
	KafkaPartition string
	// AdvertiseAddr is this instance's HTTP address as other instances of
	// the consumer group reach it (Kafka mode); default: the listen address.
	AdvertiseAddr       string
	KafkaSessionTimeout time.Duration
	// PublicURL is the service's URL as readers of a printed report reach
	// it: the base of the verification URL in the report page's QR code;
	// default: derived from the listen address (publicURL).
	PublicURL     string
	ClickHouseDSN string

	SnapshotInterval time.Duration
	SnapshotEvents   int
	SweepInterval    time.Duration
	MaxBody          int64
	MaxIngest        int // concurrent POST /v1/events requests
	MaxConns         int // open HTTP connections
	ReportValidity   time.Duration
	ShutdownTimeout  time.Duration
	LogLevel         string
	LogFormat        string
	WALSalvage       bool
	DrawMaxWork      int64 // sampler.Options.MaxRankHashes

	// Files are NDJSON event files ingested on start.
	Files []string
}

// flagSet defines the flags on fs, bound to c with their defaults.
func (c *Config) flagSet(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.Data, "data", "./data", "data directory: durable log, snapshots, keys, draws, dead letters")
	fs.StringVar(&c.Tokens, "tokens", "", "bearer tokens file: one `ROLE TOKEN` pair per line (roles: regulator, source, peer); # starts a comment (default: DATA/tokens, generated with one random token per role on first start)")
	fs.BoolVar(&c.AllowSharedTokens, "allow-shared-tokens-file", false, "accept a tokens file that its group or others may read or write (default: refuse it, as ssh refuses such keys)")
	fs.StringVar(&c.Key, "key", "", "Ed25519 or SM2 signing key (PKCS#8 PEM); reports are signed with the key's algorithm; default: generated on first start as DATA/keys/signing.pem")
	fs.StringVar(&c.KeyAlg, "key-alg", "ed25519", "algorithm of a signing key generated on first start: ed25519 or sm2 (SM2-SM3 signatures); an existing key keeps its own")
	fs.StringVar(&c.Issuer, "issuer", "37", "issuer code in reports (a province's 2-digit division code)")
	fs.StringVar(&c.IssuerName, "issuer-name", "", "issuer name in reports (default: the province's market regulation bureau)")
	fs.StringVar(&c.Model, "model", "", "risk model JSON file (default: the built-in model of --scheme)")
	fs.StringVar(&c.Scheme, "scheme", "national-4", "tier scheme of the built-in model: national-4 (A–D) or shandong-5 (A–E)")
	fs.StringVar(&c.Exceptions, "uscc-exceptions", "", "file of USCCs to accept although they fail a check character, one per line (default: the documented Fujian pilot codes)")
	fs.BoolVar(&c.Demo, "demo", false, "load a synthetic province on start (when the state is empty)")
	fs.IntVar(&c.DemoEntities, "demo-entities", 20000, "entities in the --demo province")
	fs.IntVar(&c.DemoDays, "demo-days", 730, "days of events in the --demo province")
	fs.Uint64Var(&c.DemoSeed, "demo-seed", 1, "seed of the --demo province")
	fs.StringVar(&c.KafkaBrokers, "kafka-brokers", "", "comma-separated Kafka bootstrap brokers; empty: no Kafka")
	fs.StringVar(&c.KafkaTopic, "kafka-topic", "credit.events", "Kafka topic of credit events")
	fs.StringVar(&c.KafkaGroup, "kafka-group", "creditd", "Kafka consumer group")
	fs.StringVar(&c.KafkaTiers, "kafka-tiers-topic", "credit.tiers", "Kafka topic for tier changes")
	fs.StringVar(&c.KafkaDLQ, "kafka-dlq-topic", "credit.events.dlq", "Kafka dead-letter topic")
	fs.StringVar(&c.KafkaPartition, "kafka-partitioner", "crc32", "key-to-partition function of the producers: crc32 (librdkafka, kcat), murmur2 (Java), fnv1a (kafka-go Hash)")
	fs.StringVar(&c.AdvertiseAddr, "advertise-addr", "", "Kafka mode: host:port where the other instances of the group reach this one's HTTP API (default: the listen address)")
	fs.DurationVar(&c.KafkaSessionTimeout, "kafka-session-timeout", 10*time.Second, "Kafka consumer-group session timeout: how long a silent instance keeps its partitions (brokers require at least 6s by default)")
	fs.StringVar(&c.PublicURL, "public-url", "", "the service's URL as readers of a printed report reach it (scheme, host, optional path prefix, e.g. https://credit.example.gov.cn): the base of the verification URL in the report page's QR code (default: http:// and the listen address, the host name for an all-interfaces address)")
	fs.StringVar(&c.ClickHouseDSN, "clickhouse-dsn", "", "ClickHouse native address, e.g. clickhouse://127.0.0.1:9000/creditd; empty: no history store")
	fs.DurationVar(&c.SnapshotInterval, "snapshot-interval", 5*time.Minute, "how often to snapshot the state (0: only at shutdown)")
	fs.IntVar(&c.SnapshotEvents, "snapshot-events", 1_000_000, "also snapshot after this many applied events")
	fs.DurationVar(&c.SweepInterval, "sweep-interval", time.Minute, "how often time rules (decay, publicity ends, the 3-year rule) are applied")
	fs.Int64Var(&c.MaxBody, "max-body", 64<<20, "largest accepted request body in bytes")
	fs.IntVar(&c.MaxIngest, "max-ingest", 4, "most POST /v1/events requests at once; more get 429 with Retry-After")
	fs.IntVar(&c.MaxConns, "max-conns", 1024, "most open HTTP connections; more wait in the listen backlog")
	fs.DurationVar(&c.ReportValidity, "report-validity", 24*time.Hour, "how long a credit report stays valid")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "grace period for in-flight requests at shutdown")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.WALSalvage, "wal-salvage", false, "start even if the last event-log segment is damaged before its end: move the damaged remainder to DATA/log/damaged/ and continue without the events in it (default: refuse to start)")
	fs.Int64Var(&c.DrawMaxWork, "draw-max-work", sampler.DefaultMaxRankHashes, "largest draw accepted, in inspector rank hashes (selected entities × the most inspectors that could serve one); larger draws get 422 before any selection (0: the default)")
}

// parseConfig parses args (without the program name) with the environment
// as the source of defaults. Every invalid value is reported, one line
// each, by a *ConfigError naming the flag (and the environment variable
// when the value came from there) and why; nothing is printed except the
// usage for -h.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("creditd", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors become ConfigError lines, not the flag package's text and usage
	c.flagSet(fs)
	raw := map[string]string{} // each flag's value as given, by flag name
	var bad *ConfigProblem     // the last value that did not parse
	fs.VisitAll(func(f *flag.Flag) { f.Value = &rawValue{Value: f.Value, name: f.Name, raw: raw, bad: &bad} })
	// Environment first, so that command-line flags override it.
	var probs []ConfigProblem
	fromEnv := map[string]string{}
	unparsed := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				bad.Env = name
				probs = append(probs, *bad)
				unparsed[f.Name] = true
				return
			}
			fromEnv[f.Name] = name
		}
	})
	bad = nil
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr)
			return nil, errFlagHelp
		}
		if bad != nil {
			probs = append(probs, *bad)
		} else {
			probs = append(probs, ConfigProblem{Reason: err.Error()})
		}
		return nil, &ConfigError{Problems: probs}
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, p := range c.validate() {
		if unparsed[p.Flag] {
			continue // already reported as not parsing
		}
		p.Value = raw[p.Flag]
		if !onCommandLine[p.Flag] {
			p.Env = fromEnv[p.Flag]
		}
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		return nil, &ConfigError{Problems: probs}
	}
	c.Files = fs.Args()
	return c, nil
}

// printUsage prints the usage and every flag with its default.
func printUsage(w io.Writer) {
	fs := flag.NewFlagSet("creditd", flag.ContinueOnError)
	fs.SetOutput(w)
	(&Config{}).flagSet(fs)
	fmt.Fprintf(w, "Usage: creditd [flags] [events.ndjson ...]\n\nEvery flag can also be set as CREDITD_<NAME> (e.g. CREDITD_DATA, CREDITD_KAFKA_BROKERS).\n\nFlags:\n")
	fs.PrintDefaults()
}

// envName is the environment variable of a flag: CREDITD_ and the flag's
// name in upper case with "_" for "-".
func envName(flagName string) string {
	return "CREDITD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envNames lists the environment variables (for documentation tests).
func envNames() []string {
	c := &Config{}
	fs := flag.NewFlagSet("creditd", flag.ContinueOnError)
	c.flagSet(fs)
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, envName(f.Name)) })
	sort.Strings(out)
	return out
}
