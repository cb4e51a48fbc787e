package event

// Labels of the enumerated penalty attributes (events.md "Penalty
// attributes"): the Chinese legal term and an English gloss, for the
// pages that show a record (the printable report, the console). The
// Chinese terms are those of 行政处罚法 Art. 9 and domain.md §4.1 / §5.1.

var attrLabels = map[string]map[string][2]string{
	"penalty_types": {
		"warning":                     {"警告", "warning"},
		"reprimand":                   {"通报批评", "circulated criticism"},
		"fine":                        {"罚款", "fine"},
		"confiscation":                {"没收违法所得、没收非法财物", "confiscation"},
		"licence_suspension":          {"暂扣许可证件", "licence suspension"},
		"qualification_downgrade":     {"降低资质等级", "qualification downgrade"},
		"licence_revocation":          {"吊销许可证件", "licence revocation"},
		"business_restriction":        {"限制开展生产经营活动", "restriction of business"},
		"production_suspension":       {"责令停产停业", "suspension of production or business"},
		"closure":                     {"责令关闭", "ordered closure"},
		"employment_restriction":      {"限制从业", "restriction of employment"},
		"business_licence_revocation": {"吊销营业执照", "business licence revoked"},
		"other":                       {"法律、行政法规规定的其他行政处罚", "other penalty set by law"},
	},
	"procedure": {
		"ordinary": {"普通程序", "ordinary procedure"},
		"simple":   {"简易程序", "simple procedure"},
	},
	"sector": {
		"food":              {"食品", "food"},
		"drug":              {"药品", "drugs"},
		"special_equipment": {"特种设备", "special equipment"},
		"work_safety":       {"安全生产", "work safety"},
		"fire":              {"消防", "fire safety"},
		"other":             {"其他领域", "other"},
	},
}

// AttrLabel returns the Chinese term and the English gloss of the wire
// value of an enumerated penalty attribute (penalty_types, procedure,
// sector); ok is false for any other attribute or an unknown value.
func AttrLabel(attr, value string) (zh, en string, ok bool) {
	l, ok := attrLabels[attr][value]
	return l[0], l[1], ok
}
