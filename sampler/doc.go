// Package sampler runs "double random, one public" (双随机、一公开) draws in
// the public `draw/v2` format (spec/draw.md): it picks the entities to
// inspect with probabilities set by risk tier, picks inspectors for each at
// random, publishes a record anyone can check without learning any
// entity's tier, and verifies such records. Records of `draw/v1` are still
// verified (Verify); new draws are v2 (DrawV2, Sampler.RunV2, VerifyV2).
//
// # draw/v2
//
// The tier is internal (domain.md §2.1, §2.2: 不公开), so a v2 draw has
// two editions: the public one (no tier, no priority; the population file
// carries each entity's tier XORed with a mask under the per-draw key B,
// which the Store generates with the seed commitment and never serves) and
// the regulatory one (adds B, the strata and each selected entity's tier
// and priority). Selection priorities are keyed with B, so the public
// cannot infer strata from who was selected; inspector assignment walks a
// per-entity permutation from SHA-256(KA || USCC || u32(j)) (assign_v2.go),
// O(k) hashes per entity. Sampler.RunV2 refuses a second draw of a plan
// (ErrPlanDrawn: seed shopping); Sampler.Amend records recusals, replayed
// by VerifyV2; the Store keeps a standing conflict register.
//
// # Using it
//
// The service adapts its scoring engine to a Source (Partitions, Scan over
// Units as of an instant) and runs draws through a Sampler backed by a
// Store:
//
//	store, err := sampler.OpenStore(filepath.Join(dataDir, "draws"))
//	s := sampler.New(store, sampler.Options{Scheme: tier.Shandong5})
//	c, err := s.Commit(planID, commitmentHex)           // before as_of
//	req, err := draw.DecodeRequest(body)                // POST /v1/draws
//	p, err := s.PrepareV2(req, src)                     // the one validation: 400 at once
//	rec, stats, err := s.RunPreparedV2(ctx, p, src)     // waits its turn, draws, stores
//	data, err := store.RecordJSON(id)                   // GET /v1/draws/{id}
//	f, err := store.Population(id)                      // GET /v1/draws/{id}/population
//
// A request is validated once: Prepare/PrepareV2 check the format's rules
// (draw.Request.Validate) and the scheme's and the Options' policy and
// return a Prepared request, which the draw takes as is. RunV2 and Run are
// Prepare plus the run; Draw and DrawV2 are the same computation without a
// Store (offline draws, tests).
// Request problems are *draw.Error (with the JSON path of the
// member); ErrCommitment, ErrSeedReused, ErrNotFound, ErrPopulationChanged
// and ErrTooLarge (Options.MaxRankHashes, Options.MaxAssignments) are
// sentinel errors for the others. A draw stops soon after its context
// ends and returns the context's error.
//
// # Choices the spec leaves open
//
// Eligibility. An entity is eligible when RegisteredAt ≤ as_of, it is not
// deregistered at or before as_of, it matches the population filter
// (region_prefix on Unit.Region, entity types and registration authorities
// on the USCC's first two characters), it has a tier, and it is not
// excluded. Exclusions count occasions: each selection by an earlier draw
// (at that draw's as_of, from the Ledger) and each inspection; an
// inspection whose plan_id is the plan of a draw that selected the entity is
// the same occasion as that selection (see Ledger for the exact rule and
// the windows). Entities without a tier are left out and counted in a
// warning.
//
// Rounding. pi is n/N rounded half up to 6 places ("0.000000" when N = 0).
// Ratios are read exactly from the JSON number's text; a value that is not
// a multiple of 10^-6 is refused (0.0500000 is 0.05 and is accepted).
//
// Unassigned entities. "reason" reads, for example,
//
//	only 1 of 2 inspectors available: 3 of the 40 inspectors in the pool cover region 370102, 1 of them in conflict, 1 at the load cap of 112
//
// with `of department "X"` instead of "in the pool" when the plan names a
// department: found, k, the inspectors serving the department that cover
// the entity's region, how many of those are in conflict with it, how many
// of the rest are at the cap, and the cap.
//
// Draw ids are "<plan slug>-<as_of as YYYYMMDDTHHMMSSZ>-<12 hex>": the plan
// id with characters outside [A-Za-z0-9._-] replaced by '_', the as_of, and
// the first 12 hex digits of the SHA-256 of the record's canonical encoding
// with draw_id "" (draw.Record.ComputeID). They are plan-scoped, safe
// in URLs and file names, and bind the record's content: Verify checks the
// id last, which catches changes to members no other check can recompute
// (the exclusion settings, warnings, a selected entity's region).
//
// Warnings (an extension member of the record) note a sample below the 3%
// floor of 企业公示信息抽查办法 Art. 4, an empty population, a tier whose
// rounded pi falls below the tier under it, and entities left out for
// having no tier.
//
// Seeds. A seed commitment in the request must be the seed's SHA-256. A
// commitment registered in the Store binds its plan: a draw of the plan must
// use a committed seed, registered no later than as_of. A seed revealed by
// one stored draw is refused for another (correlated draws), and a request
// identical to a stored draw returns that draw instead of drawing again.
//
// # Performance
//
// A draw with a ratio allocation scans the Source once (the single pass,
// onepass.go): each eligible entity is counted, hashed once and appended as
// one 8-byte key to its worker's chunks for its USCC prefix; candidates
// below a per-stratum limit that only falls are kept, and the sample is
// decided afterwards from N_t. When that cannot prove the sample, and for
// budget allocations, the scan is two passes (scan.go): counting, then
// selection with a priority threshold or, failing that, bounded heaps
// (the slow paths). Population sorting, formatting and hashing run bucket
// by bucket in a pipeline (popsort.go). Inspector assignment hashes every candidate
// inspector of every selected entity, as the spec requires, in parallel,
// then walks the rankings in priority order (assign.go). bench/drawbench
// measures a 14M-entity province against the hashing floor.
package sampler
