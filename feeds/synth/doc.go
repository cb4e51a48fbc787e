// Package synth generates a deterministic synthetic province: a population
// of market entities, each with a hidden latent risk, and the stream of
// credit-event/v1 events (events.md) that this risk drives. It is the demo
// data of creditd --demo and the load generator of the project
// (creditctl gen).
//
// # Use
//
//	err := synth.Generate(ctx, synth.Options{Entities: 100_000, Days: 365, Seed: 1,
//		End: time.Now().UTC()}, func(line []byte) error { ... })
//
// Lines come without a newline, in the order they are to be applied
// (non-decreasing occurred_at). Equal Options give byte-identical output;
// the package never reads the clock (Options.End defaults to DefaultEnd).
// Options.Truth receives each entity's ground truth after the last event;
// Options.BadRate mixes in deliberately invalid lines ("BAD-<class>-N" ids,
// BadClasses) for ingest tests.
//
// # Model
//
// Every number is in params.go with its source; README.md has the full
// tables. "domain §N" refers to the project's domain reference.
//
// Population. Entities = those existing at Start plus those registering
// during the stream. Kinds follow the national mix (domain §7): enterprises
// 31.3 %, individual businesses 67.4 %, farmers' cooperatives 1.2 %, under
// registration authority 9 (GB 32100, domain §1.5). Region 37 uses
// Shandong's real GB/T 2260 divisions (16 cities, 136 county-level units,
// plus city-level bureaus for 15 % of enterprises), cities weighted by 2020
// census population; other provinces get synthetic divisions. Registration
// days follow an exponential trend of 16 % a year over 40 years (domain §7:
// 18 % new individual businesses in 2023), mostly on working days.
// Entities registered before 1 October 2015 (enterprises, cooperatives)
// carry 8-digit legacy organisation codes, the rest "MA" codes; both check
// characters are computed with uscc.OrgCheckCharacter and
// uscc.CheckCharacter; a keyed Feistel permutation keeps codes unique.
// Names are built from trade names, business words by GB/T 4754 division,
// and person names ("济南鑫达商贸有限公司", "历下区张伟便利店",
// "平阴县丰源果蔬种植专业合作社").
//
// Latent risk. z ~ N(0,1) per entity; ρ = exp(z − ½) (log-normal, mean 1)
// multiplies the rates of negative events: penalties (∝ ρ), complaints
// (ρ^0.7), court debtor listings (ρ^1.3), abnormal listings for unpublished
// or false information (ρ^1.2, ρ^1.5), missing annual reports
// (1 − exp(−m·ρ^1.2)), breached commitments and substantiated complaints
// (logistic in z); honours fall with risk (ρ^−1). The truth tiers are
// percentiles of z: national A 30 %, B 50 %, C 15 %, D 5 %. No observable
// is a copy of z: each family of events follows its own channel propensity
// z_c = λ_c·z + √(1−λ_c²)·ε_c (conduct 0.6, filing 0.5, tax 0.45, consumer
// 0.4), and ρ, z above are the channel's; only inspection findings follow
// z itself. Consumer complaints to the 12315 platform (ids "12315-…",
// consumer.go) are a second complaint process on the consumer channel
// (ρ_c^1 by industry), drawn apart so that the other events are unchanged.
//
// Calendar (domain §4, §5). Annual reports in the 1 January – 30 June
// window, crowding towards the deadline; late ones in July before listing
// (on_time false); missing ones listed in early July (annual_report_missing),
// cured by a late filing and then abnormal_removed or repair. Unresolved
// abnormal listings move to the dishonest list after 3 years. Penalties
// carry decision numbers like "鲁济市监罚〔2026〕123号", penalty types,
// procedure and sector (penalty.go); serious ones may lead to the
// dishonest list. A penalty is repaired in the SAMR or the Credit China
// channel, or both, only inside the window models/record's channel rules
// give under both the national and the Shandong configuration; the
// dishonest list after 1 year, the abnormal list any time within 3 years;
// never minor penalties or court listings. Court listings end on
// performance or after 2 years. Commitments are verified 30–180 days
// later; a breach bars further commitments until repaired or expired.
// A few records are objected to; the source answers within 3 or 7
// Chinese working days (objection.go), some late, a few never. Tax ratings for the previous
// year are published in April (enterprises and cooperatives). Government
// acts fall on working days in office hours; every time is between 08:00
// and 24:00 China time, so UTC and local dates agree.
//
// Inspections (domain §2.3, §3, §8). Monthly province-wide plans
// ("37-2026-05") draw 5 % of enterprises and cooperatives and 2 % of
// individual businesses a year, three times as many of listed entities.
// P(finding) = logistic(−2.6 + 1.25z + kind + 0.8·listed): about 13–16 %
// of inspections find problems (domain §8 baselines 7.9–19.6 %), from about
// 2 % in the lowest latent-risk quintile to about 40 % in the highest.
// Tiered by z itself at 30/50/15/5 %, the highest tier's finding rate is
// 27–33 times the lowest's (the oracle; TestOracleHitRatio in cmd/creditctl
// requires ≥ 5×): what limits a scorer is the observables, not this slope.
// Findings are unreachable (listed 5–14 working days later), refused,
// problem_found (penalty or listing may follow) or corrected.
//
// # Implementation
//
// A day-stepped discrete-event simulation; see the comment at the top of
// gen.go. State is 72 bytes an entity in one pointer-free slice (10 million
// entities: about 0.7 GB of heap), random draws are counter-based (no RNG
// state per entity), events are sorted per day with a radix sort and
// encoded to JSON by hand. Speed: about 1.2 million events per CPU-second.
package synth
