package synth

import "github.com/creditrisk/creditd/models/event"

// Every number that shapes the synthetic province is here, with where it
// comes from. "domain §N" is /work/shared/domain.md (the project's domain
// reference); "assumption" marks numbers no source gives, chosen to be
// plausible and documented in README.md so that users can judge them.

// Latent risk. Each entity has z ~ N(0,1); its risk multiplier is
// ρ = exp(σz − σ²/2), log-normal with mean 1, which scales the rates of its
// negative events (assumption: a log-normal multiplier is the usual model
// of heterogeneous event rates; σ = 1 makes the top 5 % about 5× as risky as
// the mean and the bottom 20 % about 4× less).
const riskSigma = 1.0

// Observation channels (issue 13: the latent risk must not be a near-copy
// of any one observable). Each family of observables is driven by its own
// propensity z_c = λ_c·z + √(1−λ_c²)·ε_c, with ε_c ~ N(0,1) independent per
// entity and channel, in place of z itself: a scorer sees several noisy,
// partial signals of z and has to combine them. Inspection findings (the
// outcome a scorer is judged on) depend on z itself. Loadings (assumption:
// the tax authority, the registry and market conduct each see part of an
// entity's risk; the tax level is the broadest single view but not the
// whole): conduct 0.6 (penalties, complaints, court listings, commitments,
// honours, listings for unpublished or false information, cures, repairs,
// exits), filing 0.5 (missing annual reports), tax 0.45 (tax levels),
// consumer 0.4 (consumer complaints to the 12315 platform, below: buyers
// see the quality of goods and service, one facet of an entity's risk and
// the narrowest of the four, so no loading is above the existing ones).
const (
	chConduct = iota
	chFiling
	chTax
	chConsumer
	numChannels
)

var channelLoading = [numChannels]float64{0.6, 0.5, 0.45, 0.4}

// Registration history (assumption calibrated on domain §7): the stock's
// age density is ∝ exp(−κ·age), truncated at maxAgeYears, and registrations
// continue at the same exponential trend into the stream, so the population
// gains κ ≈ 16 % new entities a year (national 2023: 22.58 M new individual
// businesses on a stock of 124 M, 18 %).
const (
	ageRate         = 0.16 // κ, per year
	maxAgeYears     = 40
	weekendRegShare = 0.1 // registration offices mostly work Monday–Friday
)

// USCCs replaced separate codes from 1 October 2015 (GB 32100-2015,
// 国发〔2015〕33号): enterprises and cooperatives registered before then keep
// their 8-digit GB 11714 organisation codes inside the USCC; those
// registered later get "MA" + 6 characters. Individual businesses had no
// organisation codes and received "MA" codes on conversion (assumption).
var maCodesFrom = daysFromCivil(2015, 10, 1)

// randDef is a Poisson process of random events: base[kind] events per
// entity-year at ρ = 1, scaled by ρ^exp. Government acts (gov) happen on
// working days only.
type randDef struct {
	base [numKinds]float64
	exp  int // risk exponent in tenths: ρ^(exp/10)
	gov  bool
}

// The random event processes, per entity-year (all assumptions; domain §6.1
// gives 610,000+ penalty records on 信用中国（山东） by November 2023 for a
// province of ~13 M entities, about 1 % a year, the order of the penalty
// rates below).
const (
	rPenalty   = iota // administrative penalty (domain §4.1)
	rComplaint        // 12315 complaint or report (domain §2.1 "dynamic credit information")
	rCourt            // listed as dishonest judgment debtor (domain §4.4)
	rCommit           // credit commitment made to obtain a licence (domain §4.6)
	rHonor            // commendation (domain §4.7)
	rNotPub           // abnormal list: instant information not published (domain §4.2 reason 2)
	rFalseInfo        // abnormal list: false information (domain §4.2 reason 3)
	rDereg            // deregistration
	numRand
)

var randDefs = [numRand]randDef{
	rPenalty:   {[numKinds]float64{0.025, 0.010, 0.006}, 10, true},
	rComplaint: {[numKinds]float64{0.030, 0.045, 0.010}, 7, false},
	rCourt:     {[numKinds]float64{0.006, 0.002, 0.002}, 13, true},
	rCommit:    {[numKinds]float64{0.12, 0.06, 0.04}, 0, true},
	rHonor:     {[numKinds]float64{0.003, 0.0015, 0.006}, -10, true},
	rNotPub:    {[numKinds]float64{0.004, 0.002, 0.004}, 12, true},
	rFalseInfo: {[numKinds]float64{0.0015, 0.0005, 0.001}, 15, true},
	// Exits: national entities grew 3.9 % a year with ~16 % entering, so
	// about 12 % leave; individual businesses churn most (domain §7).
	rDereg: {[numKinds]float64{0.06, 0.12, 0.05}, 4, true},
}

// Annual reports (domain §4.5): window 1 January – 30 June for the previous
// year; entities formed in year N file first for N. P(missing) =
// 1 − exp(−m_kind · ρ^1.2) (assumption; about 8 % overall, rising steeply
// with risk — Sichuan 2015 found 7.88 % of sampled enterprises abnormal,
// domain §8). A further arLate file in July before the listing date
// (on_time = false). On-time filings crowd towards the deadline: 40 %
// uniform over the window, 60 % Beta(3,1).
var arMissBase = [numKinds]float64{0.06, 0.08, 0.10}

const (
	arMissExp     = 1.2
	arLate        = 0.03
	arUniformPart = 0.4
	// Missing reports are listed on a working day 3–10 working days
	// into July (domain §4.2: within 10 working days after the window).
	arListMinWD = 3
	arListMaxWD = 10
)

// Abnormal-list cures (domain §4.2, §5.1: removal once the cause is cured,
// no minimum wait; after 3 years unresolved → serious illegal and dishonest
// list). P(cure) = abCure[reason] / (1 + 0.25ρ); the cure comes after
// 3 days plus Exp(mean abCureDays[reason]) days, and only if that is within
// 3 years. A cured listing ends with abnormal_removed, or with a repair
// event (credit repair application, domain §5.1) with probability
// abViaRepair. A missing annual report is cured by filing it late, then the
// removal follows 2–8 working days later.
var (
	abCure     = [5]float64{0, 0.8, 0.9, 0.7, 0.45} // by reason code 1..4
	abCureDays = [5]float64{0, 60, 20, 45, 90}
)

const abViaRepair = 0.25

// Penalties (domain §4.1, §5.1). Severity: serious with probability
// min(0.3, 0.06·√ρ), minor 0.3, otherwise general (assumption). Fines
// (yuan, log-uniform, rounded to 100): minor 200–3,000, general
// 3,000–100,000, serious 100,000–2,000,000 (assumption, consistent with
// "lower-amount fine" for minor and "heavy end of the discretion
// benchmark" for serious, domain §4.1, §4.3).
const (
	sevMinorShare      = 0.3
	sevSeriousBase     = 0.06
	sevSeriousCap      = 0.3
	penRepairGeneral   = 0.45 // P(repair) = x / (1 + 0.3ρ)
	penRepairSerious   = 0.25
	repairDelayMean    = 75.0 // days after the earliest allowed date
	repairMarginDays   = 3    // safety margin after the minimum period (dishonest-list repairs)
	seriousToDishonest = 0.35 // Order 44: serious violation + heavy penalty → list (domain §4.3)
)

// Serious illegal and dishonest list (domain §4.3): early removal (repair)
// allowed after 1 year listed; normal duration taken as 3 years
// ("believed", unconfirmed in domain §4.3). P(repair) = 0.35/(1+0.3ρ).
const disRepair = 0.35

// Dishonest judgment debtors (domain §4.4): default 2 years; deleted on
// performance, which happens with probability 0.55/(1+0.2ρ) after
// 10 + Exp(mean 150) days (assumption).
const (
	courtPerform     = 0.55
	courtPerformMean = 150.0
)

// Commitments (domain §4.6): verified 30–180 days after being made;
// P(breach) = logistic(−3.3 + 1.2z), about 6 % (assumption).
const (
	commitBreachA = -3.3
	commitBreachB = 1.2
)

// Complaints: P(substantiated) = logistic(−1 + 0.9z); a substantiated one
// leads to a penalty 15–60 days later with probability 0.08 (assumption).
// These are the reports of violations (举报) among the random events, on
// the conduct channel.
const complaintToPenalty = 0.08

// Consumer complaints (投诉 to the 12315 platform, ids "12315-…"): a second,
// denser complaint process on its own observation channel (chConsumer).
// Complaints and reports are "dynamic credit information" (domain §2.1,
// SAMR's director of credit supervision) and entities with many complaints
// are to be inspected more (国办发〔2015〕58号, domain §3.1 item 3); a
// tier-A entity is still inspected on a complaint (§2.1). A Poisson
// process of consumerBase[kind] complaints per entity-year at ρ = 1,
// × ρ_consumer^consumerExp, × consumerSector by industry normalised so that
// each kind keeps its mean, at any hour of the online day, independent of
// the entity's records (consumers complain whatever the lists say), from
// the day after registration until deregistration. Substantiated after
// handling (核查属实) with logistic(−1 + 0.9·z_consumer), as reports; they
// trigger nothing else (a consumer dispute is mediated; the reports above
// carry the enforcement follow-ups). All numbers are assumptions: domain.md
// gives no complaint volumes. Order of magnitude: the 12315 platform
// receives some 10^7 complaints a year nationally against 1.8·10^8
// entities (domain §7), a few per cent per entity-year, concentrated on
// platforms and chains the generator does not model; so 5 % a year for
// enterprises and individual businesses, 1 % for cooperatives (which sell
// little to consumers).
var consumerBase = [numKinds]float64{0.05, 0.05, 0.01}

const consumerExp = 1.0

// consumerSector weighs an industry's consumer exposure (assumption):
// retail, catering, hotels, household and repair services, education,
// health, property management, sport and entertainment sell to consumers
// (×2); the rest mostly to businesses (×0.5).
func consumerSector(code string) float64 {
	switch code {
	case "F52", "H61", "H62", "O80", "O81", "P83", "Q84", "K70", "R89", "R90":
		return 2
	}
	return 0.5
}

// Inspections ("double random", domain §2.3, §3.1). Monthly province-wide
// plans (plan_id "37-2026-05"); an entity is drawn in a year with
// probability inspCover[kind] (national floor 3 % of enterprises; Jiangsu
// 5.2 %, Chongqing 5 %; individual businesses far less, Weishan 0.1 %),
// three times that while on the abnormal or dishonest list (国办发〔2015〕58号
// "increase sampling intensity", domain §3.1). The inspection takes place
// on a working day of the plan's month after the plan's first working day.
var inspCover = [numKinds]float64{0.05, 0.02, 0.05}

const inspListedFactor = 3

// Inspection results (domain §3.7 categories; hit = a finding, domain §8).
// P(hit) = logistic(hitA + hitB·z + hitKind[kind] (+ hitAbnormal while
// listed as abnormal)). With z ~ N(0,1) the population hit rate is about
// 11 %; inspections lean towards listed entities, which lifts the rate
// among inspected entities to 13–16 %, inside domain §8's 7.9–19.6 %
// baselines. It rises from about 2 % in the lowest latent-risk quintile to
// about 40 % in the highest.
const (
	hitA        = -2.6
	hitB        = 1.25
	hitAbnormal = 0.8
)

var hitKind = [numKinds]float64{0, 0.15, -0.1}

// Composition of findings (assumption from domain §8: Sichuan 2015 —
// 1,305 of 1,400 findings were unreachable; Changzhou 2017 — 10 not
// published, 3 unreachable, 6 corrected of 19): the unreachable share by
// kind, refused 5 %, and the rest split problem_found 55 % / corrected 45 %.
var hitUnreachable = [numKinds]float64{0.25, 0.35, 0.25}

const (
	hitRefused      = 0.05
	hitProblemShare = 0.55
	// Consequences: an unreachable entity is listed (reason
	// unreachable_at_address) 5–14 working days later (domain §3.7 条例
	// Art. 15, 17; §4.2 "within 10 working days after verification"); a
	// problem leads to a penalty with probability 0.45 (20–90 days later)
	// or to a listing for unpublished/false information with probability
	// 0.12; a refusal to a general penalty with probability 0.3.
	inspProblemPenalty  = 0.45
	inspProblemAbnormal = 0.12
	inspRefusedPenalty  = 0.3
)

// Honours (domain §4.7): level shares municipal 70 %, provincial 25 %,
// national 5 % (assumption). Deregistrations: simplified procedure 70 %
// (assumption; listed entities cannot use it, domain §4.2, so the
// generator lets no listed entity deregister).
const (
	honorProvincial  = 0.25
	honorNational    = 0.05
	deregSimplified  = 0.7
	workWeekGovScale = 7.0 / 5.0 // government acts only happen Monday–Friday
)

// Tax credit ratings (domain §2.4, §9 item 26): published each April for
// the previous year, for enterprises and cooperatives. Level from
// s = z + 0.6·N(0,1): A below taxA, B below taxC, C below taxD, D above
// (quantiles for A 12 %, B 70 %, C 15 %, D 3 %; assumption); M for entities
// registered during the rated year, and for 8 % of B-or-better entities
// without revenue; D directly while on the dishonest or court list.
const (
	taxA        = -1.37
	taxC        = 1.21
	taxD        = 2.19
	taxNoIncome = 0.08
)

// Ground-truth tiers (Truth): by the percentile Φ(z) of latent risk. No
// official tier shares exist (domain §8, §10); these cut points are the
// generator's convention: national A 30 %, B 50 %, C 15 %, D 5 %; Shandong
// A 20 %, B 30 %, C 30 %, D 15 %, E 5 %.
var (
	truthCuts4 = []float64{0.30, 0.80, 0.95}
	truthCuts5 = []float64{0.20, 0.50, 0.80, 0.95}
)

// Penalty attributes (events.md "Penalty attributes"; domain §4.1, §5.1).
// All shares are assumptions: no source in domain.md gives the mix of
// penalty types, procedures or sectors of a market regulator's cases.
// They are chosen so that each severity keeps its meaning:
//   - minor: half decided under the simple procedure (行政处罚法 Art. 51:
//     on the spot, a warning or a fine of at most ¥200 for a citizen —
//     individual businesses here — or ¥3,000 for an organisation), 40 % of
//     those a warning only; under the ordinary procedure 10 % a reprimand
//     (通报批评) only, 10 % a warning only, else a fine of ¥200–3,000 (with a
//     warning 30 %, confiscation 10 %). Minor penalties are the lower-amount
//     decisions whose SAMR publication stops after 3 months (Order 45
//     Art. 13) or that SAMR never publishes (warning only, Art. 2).
//   - general: ordinary procedure, a fine of ¥3,000–100,000, with a
//     warning 15 %, confiscation 35 %, and a licence suspension 4 % or an
//     order to stop production or business 3 %.
//   - serious: ordinary procedure, a fine of ¥100,000–2,000,000 in 95 %,
//     confiscation 60 %, and in 60 % (always when nothing else was drawn)
//     one heavy type: stop production or business 30 %, licence
//     revocation 25 %, business-licence revocation 15 %, business
//     restriction 15 % (6, 12, 24, 36 or 60 months), employment
//     restriction 15 % (36, 60 or 120 months: food-safety law bans run
//     5 years to life). The Art. 14 types make SAMR's early stop
//     impossible (domain §4.1); periods over 3 years lengthen SAMR
//     publication (Art. 13).
const (
	penSimpleShare         = 0.5 // of minor penalties
	penSimpleWarning       = 0.4
	simpleFineMin          = 50
	simpleFineIndividual   = 200  // 行政处罚法 Art. 51, citizens
	simpleFineOrganisation = 3000 // 行政处罚法 Art. 51, organisations
	minorReprimandOnly     = 0.1
	minorWarningOnly       = 0.1
	minorWithWarning       = 0.3
	minorConfiscation      = 0.1

	generalWarning              = 0.15
	generalConfiscation         = 0.35
	generalLicenceSuspension    = 0.04
	generalProductionSuspension = 0.03

	seriousFine         = 0.95
	seriousConfiscation = 0.6
	seriousHeavy        = 0.6
)

// Heavy penalty types of serious decisions, their shares and restriction
// periods (months; see above).
var (
	heavyTypes = [5]event.PenaltyType{event.PenProductionSuspension, event.PenLicenceRevocation,
		event.PenBusinessLicenceRevocation, event.PenBusinessRestriction, event.PenEmploymentRestriction}
	heavyShare        = [5]float64{0.30, 0.25, 0.15, 0.15, 0.15}
	heavyCum          [5]float64
	restrictionMonths = [5][]uint16{3: {6, 12, 24, 36, 60}, 4: {36, 60, 120}}
)

// Sectors of penalties by the entity's industry (GB/T 4754 division):
// weights of food, drug, special equipment, work safety, fire, other
// (assumption: food safety dominates the cases of catering, food
// manufacturing and food retail; pharmacies sit in retail; special
// equipment — lifts, boilers, cranes, forklifts — in manufacturing,
// construction, property, logistics and hotels; work safety and fire are
// mostly other departments' cases, so rare here). The 1-year repair
// minimum of the first three (SAMR) and all five (Credit China, Order 58)
// follows from the sector (domain §4.1, §5.1).
func sectorWeights(code string) [6]float64 {
	switch {
	case code == "H62" || code == "C13" || code == "C14":
		return [6]float64{0.75, 0, 0.05, 0.02, 0.03, 0.15}
	case code == "F52":
		return [6]float64{0.45, 0.08, 0.01, 0.01, 0.02, 0.43}
	case code == "F51":
		return [6]float64{0.25, 0.04, 0.02, 0.01, 0.01, 0.67}
	case code == "H61":
		return [6]float64{0.30, 0, 0.10, 0.02, 0.05, 0.53}
	case code[0] == 'A':
		return [6]float64{0.35, 0, 0.02, 0.01, 0.01, 0.61}
	case code[0] == 'C', code[0] == 'E', code[0] == 'G', code == "K70":
		return [6]float64{0, 0, 0.15, 0.05, 0.03, 0.77}
	}
	return [6]float64{0.05, 0, 0.03, 0.01, 0.02, 0.89}
}

// sectorCum is sectorWeights as cumulative tables by industry index.
var sectorCum [][]float64

func init() {
	sectorCum = make([][]float64, len(industries))
	for k := range industries {
		w := sectorWeights(industries[k].code)
		sectorCum[k] = cumulative(w[:])
	}
	copy(heavyCum[:], cumulative(heavyShare[:]))
}

// cumulative returns the running sums of w, normalised to end at 1.
func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	var c float64
	for i, x := range w {
		c += x
		out[i] = c
	}
	for i := range out {
		out[i] /= c
	}
	out[len(out)-1] = 1
	return out
}

// Repair channels (domain §5.1–5.3; events.md "repair"): a repaired
// penalty is repaired first on SAMR's publicity system with probability
// 0.5, else on Credit China; in 40 % the other channel follows 1–20
// working days later (协同修复: the two systems pass applications to each
// other). A channel whose rules forbid the repair (simple procedure, a
// warning or lower-amount fine only, the Art. 14 heavy types, or a date
// past the channel's publicity end) is skipped; a SAMR repair while the
// entity is on the abnormal or serious list goes to Credit China instead
// (Order 45 Art. 14(4)). Assumptions.
const (
	penRepairSAMRFirst = 0.5
	penRepairBoth      = 0.4
	bothDelayMaxWD     = 20
)

// Breached commitments (domain §4.6): the breach bars the commitment route
// until repaired or until its publicity ends (record.BreachRule: a general
// penalty of the regime in force); a breach is repaired with probability
// 0.4/(1+0.3ρ), Exp(60) days after the earliest date the rules allow
// (assumption).
const (
	breachRepair      = 0.4
	breachRepairDelay = 60.0
)

// Objections (domain §4.8; events.md "Objections"). The share of records
// objected to, by record (assumption, 2–8 %: entities dispute what costs
// them most and what they can refute with documents — an "unreachable"
// finding by showing the address works, a penalty by its review; simple-
// procedure penalties are accepted on the spot; court listings have the
// court's own correction route): ordinary penalty 5 %, simple 2 %;
// abnormal listing 4 %, unreachable_at_address 8 %; serious illegal and
// dishonest listing 6 %; dishonest judgment debtor 2 %; inspection with a
// finding 4 %; tax level C or D 3 %; breached commitment 6 % (objected to
// through the commitment record). Filed 1 + Exp(12) days (at most 1 + 90)
// after the record. Answers (assumption): 12 % referred to another unit
// (a referral answer within the first 2 working days, then the 7-working-
// day limit); 10 % of final answers late (1 + Exp(15) working days past
// the deadline, at most 120), the rest on a uniform working day up to it;
// 2 % never answered in the stream (they stay open and become overdue:
// the regulators' overdue queue exists for them; an entity with an open
// objection does not deregister); 15 % upheld (the record is withdrawn;
// its pending repair is dropped), 85 % rejected.
const (
	objPenalty       = 0.05
	objPenaltySimple = 0.02
	objAbnormal      = 0.04
	objUnreachable   = 0.08
	objDishonest     = 0.06
	objCourt         = 0.02
	objInspection    = 0.04
	objTax           = 0.03
	objBreach        = 0.06
	objFileDelayMean = 12.0 // days
	objFileMaxDays   = 90
	objReferred      = 0.12
	objLate          = 0.10
	objLateMeanWD    = 15.0
	objLateMaxWD     = 120
	objUnanswered    = 0.02
	objUpheld        = 0.15
)
