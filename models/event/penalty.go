package event

// Penalty attributes (credit-event/v1, optional, events.md "Penalty
// attributes"): what the publicity and repair rules of domain.md §4.1 and
// §5.1–5.3 need beyond the severity. Old events without them stay valid
// and are judged by their severity alone.

// PenaltyType is one kind of administrative penalty (行政处罚法 Art. 9),
// as a bit of Event.PenaltyTypes.
type PenaltyType uint16

// Penalty types, in wire order (bit i = penaltyTypeNames[i]).
const (
	PenWarning                   PenaltyType = 1 << iota // 警告
	PenReprimand                                         // 通报批评
	PenFine                                              // 罚款 (amount in amount_yuan)
	PenConfiscation                                      // 没收违法所得、没收非法财物
	PenLicenceSuspension                                 // 暂扣许可证件
	PenQualificationDowngrade                            // 降低资质等级
	PenLicenceRevocation                                 // 吊销许可证件
	PenBusinessRestriction                               // 限制开展生产经营活动 (period in restriction_months)
	PenProductionSuspension                              // 责令停产停业
	PenClosure                                           // 责令关闭
	PenEmploymentRestriction                             // 限制从业 (period in restriction_months)
	PenBusinessLicenceRevocation                         // 吊销营业执照
	PenOther                                             // other penalties set by laws and regulations
	numPenaltyTypes              = iota
)

var penaltyTypeNames = [numPenaltyTypes]string{
	"warning", "reprimand", "fine", "confiscation", "licence_suspension", "qualification_downgrade",
	"licence_revocation", "business_restriction", "production_suspension", "closure",
	"employment_restriction", "business_licence_revocation", "other",
}

// PenaltyTypeNames lists the penalty types' wire names in bit order.
func PenaltyTypeNames() []string { return penaltyTypeNames[:] }

// Names returns the wire names of the types set in m, in bit order.
func (m PenaltyType) Names() []string {
	var out []string
	for i, n := range penaltyTypeNames {
		if m&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// PenRestrictions are the types whose period restriction_months gives.
const PenRestrictions = PenBusinessRestriction | PenEmploymentRestriction

// MaxRestrictionMonths bounds restriction_months (100 years).
const MaxRestrictionMonths = 1200

// Procedure codes (Event.Procedure): 0 = not given.
const (
	ProcedureOrdinary uint8 = 1 // 普通程序
	ProcedureSimple   uint8 = 2 // 简易程序
)

// Sector codes (Event.Sector): 0 = not given. Food, drug and special
// equipment have the 1-year SAMR repair minimum (domain.md §5.1); those
// three plus work safety and fire the 1-year Credit China minimum of Order
// 58 (§4.1). Codes fit in 3 bits.
const (
	SectorFood             uint8 = 1
	SectorDrug             uint8 = 2
	SectorSpecialEquipment uint8 = 3
	SectorWorkSafety       uint8 = 4
	SectorFire             uint8 = 5
	SectorOther            uint8 = 6
)

// Channel codes of a repair (Event.Channel): which publicity channel the
// repair ends. 0 = not given, which means Credit China (the rules every
// v1 repair was judged by before channels existed).
const (
	ChannelCreditChina uint8 = 1 // 信用中国 display (NDRC rules)
	ChannelSAMR        uint8 = 2 // SAMR publicity system (Order 45 Art. 14, 国市监信规〔2021〕3号)
)

var (
	procedureNames = []string{"", "ordinary", "simple"}
	sectorNames    = []string{"", "food", "drug", "special_equipment", "work_safety", "fire", "other"}
	channelNames   = []string{"", "credit_china", "samr"}
)

// ProcedureName, SectorName and ChannelName return wire values ("" for 0).
func ProcedureName(c uint8) string { return enumName(procedureNames, c) }

// SectorName returns the wire value of a sector code.
func SectorName(c uint8) string { return enumName(sectorNames, c) }

// ChannelName returns the wire value of a channel code.
func ChannelName(c uint8) string { return enumName(channelNames, c) }

func enumName(tab []string, c uint8) string {
	if int(c) < len(tab) {
		return tab[c]
	}
	return ""
}

// DecodeAttrs decodes the attrs object raw of an event of type t into ev
// (which is reset first), with the rules of Decode. It re-reads attributes
// stored before they were known (the scoring snapshot migration).
func (d *Decoder) DecodeAttrs(t Type, raw []byte, ev *Event) error {
	ev.Reset()
	ev.Type = t
	ev.RawAttrs = raw
	return d.decodeAttrs(ev)
}
