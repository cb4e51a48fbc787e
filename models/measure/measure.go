// Package measure is the table of joint measures (联合惩戒 / 守信激励)
// attached to an entity's public list memberships and records: the
// restrictions that follow a serious dishonesty listing, a dishonest
// judgment debtor listing, an abnormal-operations listing or a breached
// credit commitment, and the incentives that follow an honour, each with
// its legal basis (domain.md §4.3, §4.6, §4.7).
//
// Measures are tied to public records only, never to the risk tier. An
// incentive such as "fewer checks" tied to tier A would publish the tier
// through whoever sees the measure (the tier is internal, domain.md §2.1,
// §2.2 "不公开"); tied to an honour, it says nothing the public credit
// record does not already say. The tier's own effect on inspections stays
// inside the draw (sampling ratios per tier), where it always was.
package measure

// Kind says whether a measure restricts or rewards.
type Kind string

// Kinds.
const (
	Restriction Kind = "restriction" // 联合惩戒
	Incentive   Kind = "incentive"   // 守信激励
)

// Measure is one joint measure.
type Measure struct {
	Code  string // stable machine name, e.g. "no_commitment_route"
	Kind  Kind
	Text  string // what it means, in Chinese as the sources word it
	Basis string // the legal basis, with its section of domain.md
}

// Trigger names the record that carries measures: a record category of
// credit-report/v1 ("dishonest_list", …) or "commitment_breached" for a
// breached commitment.
type Trigger string

// Triggers.
const (
	DishonestList      Trigger = "dishonest_list"
	CourtDebtor        Trigger = "court_debtor"
	AbnormalList       Trigger = "abnormal_list"
	CommitmentBreached Trigger = "commitment_breached"
	Honor              Trigger = "honor"
)

// The measures, one variable each so that the table below reads as a
// table.
var (
	NoCommitmentRoute = Measure{"no_commitment_route", Restriction, "不得适用告知承诺制，信用修复后恢复",
		"国办发〔2020〕42号 implementing notice (Pingdingshan): applicants with a serious bad credit record or a previous false commitment cannot use the commitment route until their credit is repaired (domain.md §4.6)"}
	KeySupervision = Measure{"key_supervision", Restriction, "列为重点监督管理对象，适当提高抽查比例和频次",
		"山东省社会信用条例 Art. 28 (domain.md §4.7)"}
	RestrictedQualifications = Measure{"restricted_qualifications", Restriction, "限制市场准入、行政许可和资质认定",
		"山东省社会信用条例 Art. 30–31, serious dishonesty entity list (domain.md §4.3)"}
	RestrictedProcurement = Measure{"restricted_procurement", Restriction, "限制参与政府采购、招标投标和财政资金项目",
		"山东省社会信用条例 Art. 30–31, serious dishonesty entity list (domain.md §4.3)"}
	NoSimplifiedDeregistration = Measure{"no_simplified_deregistration", Restriction, "不适用简易注销",
		"市场主体登记管理条例实施细则 Art. 48(1) (domain.md §4.3)"}
	GreenChannel = Measure{"green_channel", Incentive, "行政审批绿色通道",
		"山东省社会信用条例 Art. 26 (domain.md §4.7)"}
	AcceptWithMaterialsPending = Measure{"accept_with_materials_pending", Incentive, "容缺受理",
		"山东省社会信用条例 Art. 26 (domain.md §4.7)"}
	FewerChecks = Measure{"fewer_checks", Incentive, "在日常监督管理中，合理降低抽查比例和频次",
		"山东省社会信用条例 Art. 26 (domain.md §4.7); tied to the honour record, not to the tier"}
)

// table lists the measures each trigger carries.
var table = map[Trigger][]Measure{
	DishonestList:      {NoCommitmentRoute, KeySupervision, RestrictedQualifications, RestrictedProcurement, NoSimplifiedDeregistration},
	CourtDebtor:        {NoCommitmentRoute, KeySupervision},
	AbnormalList:       {KeySupervision},
	CommitmentBreached: {NoCommitmentRoute},
	Honor:              {GreenChannel, AcceptWithMaterialsPending, FewerChecks},
}

// For returns the measures a trigger carries (nil for none). The slice is
// shared: do not modify it.
func For(t Trigger) []Measure { return table[t] }

// Triggers lists the triggers of the table.
func Triggers() []Trigger {
	return []Trigger{DishonestList, CourtDebtor, AbnormalList, CommitmentBreached, Honor}
}
