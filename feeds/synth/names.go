package synth

import "strings"

// Entity kinds under registration authority 9 (GB 32100, domain.md §1.5):
// the USCC's second character is '1' + kind.
const (
	kindEnterprise = iota // 企业, type code 1
	kindIndividual        // 个体工商户, type code 2
	kindCoop              // 农民专业合作社, type code 3
	numKinds
)

var kindNames = [numKinds]string{"enterprise", "individual_business", "farmers_cooperative"}

// kindShare is the national mix of market entities at the end of
// September 2023 (domain.md §7: 56.737 M enterprises, 122 M individual
// businesses, 2.240 M cooperatives of 181 M): 31.3 %, 67.4 %, 1.2 %
// (remainder rounded into individual businesses).
var kindShare = [numKinds]float64{0.313, 0.675, 0.012}

// industry is a GB/T 4754-2017 division (门类 letter + 大类 two digits, e.g.
// "F52" retail) with its relative frequency for each kind and the words
// names are built from.
type industry struct {
	code string
	w    [numKinds]float64
	ent  []string // enterprise business words: "商贸" in 济南鑫达商贸有限公司
	shop []string // individual-business shop words: "便利店"
	coop []string // cooperative product words: "蔬菜种植"
}

// industries: weights are the generator's assumption of the sector mix of
// each kind (no sourced split exists in domain.md; documented in README.md
// "Industries"): individual businesses are mostly retail and catering,
// enterprises mostly trade and business services, cooperatives farming.
var industries = []industry{
	{"A01", [3]float64{2, 3, 55}, []string{"农业科技", "农业发展", "生态农业"}, []string{"家庭农场", "果园", "种植园"},
		[]string{"蔬菜种植", "果蔬种植", "苹果种植", "小麦种植", "大蒜种植", "花生种植", "中药材种植", "樱桃种植", "葡萄种植", "食用菌种植", "土地股份"}},
	{"A02", [3]float64{0.3, 0, 4}, []string{"林业发展", "苗木"}, nil, []string{"苗木种植", "林果"}},
	{"A03", [3]float64{1, 2, 25}, []string{"牧业", "养殖"}, []string{"养殖场", "养鸡场", "养猪场"},
		[]string{"生猪养殖", "肉牛养殖", "蛋鸡养殖", "肉羊养殖", "奶牛养殖"}},
	{"A04", [3]float64{0.2, 0.3, 3}, []string{"水产"}, []string{"渔场"}, []string{"水产养殖"}},
	{"A05", [3]float64{0.5, 0.5, 13}, []string{"农机服务", "农业服务"}, []string{"农机服务部"}, []string{"农机", "植保"}},
	{"C13", [3]float64{1.5, 1, 0}, []string{"粮油", "食品"}, []string{"面粉加工坊", "磨坊", "粮油加工坊"}, nil},
	{"C14", [3]float64{1, 0.5, 0}, []string{"食品"}, []string{"糕点坊", "豆腐坊"}, nil},
	{"C18", [3]float64{1, 0.3, 0}, []string{"服饰", "服装"}, []string{"服装加工部"}, nil},
	{"C26", [3]float64{1, 0, 0}, []string{"化工"}, nil, nil},
	{"C29", [3]float64{0.8, 0, 0}, []string{"塑料制品", "塑胶"}, nil, nil},
	{"C30", [3]float64{0.8, 0, 0}, []string{"建材", "新型建材"}, nil, nil},
	{"C33", [3]float64{1.5, 0, 0}, []string{"金属制品", "钢结构"}, nil, nil},
	{"C34", [3]float64{2, 0, 0}, []string{"机械", "机械设备"}, nil, nil},
	{"C35", [3]float64{1.5, 0, 0}, []string{"机械制造", "智能装备"}, nil, nil},
	{"C38", [3]float64{1, 0, 0}, []string{"电气", "电器"}, nil, nil},
	{"E47", [3]float64{3, 0, 0}, []string{"建设工程", "建筑工程"}, nil, nil},
	{"E48", [3]float64{2.5, 0, 0}, []string{"路桥工程", "市政工程"}, nil, nil},
	{"E50", [3]float64{4, 1, 0}, []string{"装饰工程", "建筑装饰工程"}, []string{"装饰部", "装饰工作室"}, nil},
	{"F51", [3]float64{18, 5, 0}, []string{"商贸", "贸易", "进出口"}, []string{"批发部", "经营部", "商贸部"}, nil},
	{"F52", [3]float64{12, 42, 0}, []string{"超市", "百货", "商贸"},
		[]string{"便利店", "超市", "百货店", "水果店", "烟酒店", "服装店", "五金店", "日用品店", "建材店", "手机店", "母婴用品店", "粮油店", "蔬菜店", "文具店", "农资店", "副食店"}, nil},
	{"G54", [3]float64{4, 4, 0}, []string{"物流", "运输"}, []string{"货运部", "物流配送站"}, nil},
	{"G59", [3]float64{1, 0, 0}, []string{"仓储", "供应链管理"}, nil, nil},
	{"H61", [3]float64{1, 2, 0}, []string{"酒店管理", "宾馆"}, []string{"宾馆", "旅馆", "民宿"}, nil},
	{"H62", [3]float64{3, 20, 0}, []string{"餐饮管理", "餐饮"},
		[]string{"小吃店", "饭店", "烧烤店", "面馆", "快餐店", "饺子馆", "包子铺", "火锅店", "早餐店", "羊汤馆"}, nil},
	{"I64", [3]float64{2, 0, 0}, []string{"网络科技"}, nil, nil},
	{"I65", [3]float64{6, 0, 0}, []string{"信息技术", "软件", "信息科技"}, nil, nil},
	{"K70", [3]float64{3, 0, 0}, []string{"置业", "房地产开发", "物业管理"}, nil, nil},
	{"L71", [3]float64{1, 0, 0}, []string{"设备租赁", "租赁"}, nil, nil},
	{"L72", [3]float64{12, 2, 0}, []string{"企业管理咨询", "商务信息咨询", "广告", "人力资源"}, []string{"图文广告部", "广告部"}, nil},
	{"M74", [3]float64{3, 0, 0}, []string{"检测技术", "工程设计", "工程技术"}, nil, nil},
	{"M75", [3]float64{8, 0, 0}, []string{"科技", "生物科技", "新材料科技", "新能源科技"}, nil, nil},
	{"O80", [3]float64{2, 8, 0}, []string{"家政服务", "美容服务"}, []string{"理发店", "美容店", "洗衣店", "家政服务部", "摄影部", "美甲店"}, nil},
	{"O81", [3]float64{1, 6, 0}, []string{"汽车服务", "汽车维修"}, []string{"汽车修理部", "家电维修部", "手机维修部", "修车铺", "轮胎店"}, nil},
	{"P83", [3]float64{1, 0, 0}, []string{"教育咨询", "教育科技"}, nil, nil},
	{"Q84", [3]float64{0.5, 0, 0}, []string{"医疗管理", "健康管理"}, nil, nil},
	{"R88", [3]float64{1.5, 0, 0}, []string{"文化传媒", "文化传播"}, nil, nil},
	{"R89", [3]float64{0.5, 0.5, 0}, []string{"体育文化", "体育发展"}, []string{"健身房"}, nil},
	{"R90", [3]float64{0.5, 1.5, 0}, []string{"娱乐", "文化娱乐"}, []string{"棋牌室", "台球室", "歌厅"}, nil},
}

// industryCum[kind] is the cumulative, normalised industry weight table.
var industryCum = func() (t [numKinds][]float64) {
	for k := range numKinds {
		var s float64
		for _, ind := range industries {
			s += ind.w[k]
		}
		var c float64
		for _, ind := range industries {
			c += ind.w[k]
			t[k] = append(t[k], c/s)
		}
		t[k][len(t[k])-1] = 1
	}
	return t
}()

// Name parts. Trade names (字号) are two characters drawn from these lists;
// surnames follow the rough frequency order of northern China (the first
// ones are drawn more often).
var (
	tradeFirst  = []rune("鑫华盛达泰恒瑞祥源信德隆宏博正安康金顺丰海天润明新嘉和成汇鼎兴旺福荣昌富佳美宇远航通聚创益永")
	tradeSecond = []rune("达源泰盛华祥瑞丰隆信诚和宇航通昌发旺兴茂鑫鼎润康安泽辉晟嘉远成利丰宏元")
	surnames    = []string{"王", "张", "李", "刘", "陈", "杨", "孙", "赵", "徐", "马", "高", "于", "朱", "胡", "郭", "何", "林", "罗", "宋", "郑", "梁", "谢", "韩", "唐", "冯", "董", "曹", "袁", "邓", "许", "吕", "田", "魏", "姜", "崔", "任", "范", "周", "吴", "丁"}
	givenChars  = []rune("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林丽娟敏静燕艳芳霞玲红梅莉娜英秀兰凤洁庆东建国志海春")
	orgForms    = []string{"有限公司", "有限公司", "有限公司", "有限公司", "有限公司", "有限公司", "有限公司", "有限责任公司", "有限公司", "股份有限公司"}
)

// plainProvince strips the administrative suffix: "山东省" → "山东".
func plainProvince(name string) string {
	for _, suf := range []string{"维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"} {
		if strings.HasSuffix(name, suf) {
			return strings.TrimSuffix(name, suf)
		}
	}
	return name
}

// appendTrade appends a two-character trade name.
func appendTrade(b []byte, r *rng) []byte {
	a := tradeFirst[r.intn(len(tradeFirst))]
	c := tradeSecond[r.intn(len(tradeSecond))]
	for c == a {
		c = tradeSecond[r.intn(len(tradeSecond))]
	}
	b = appendRune(b, a)
	return appendRune(b, c)
}

// appendSurname favours the first surnames: the index is the minimum of two
// uniform draws, a triangular distribution.
func appendSurname(b []byte, r *rng) []byte {
	i, j := r.intn(len(surnames)), r.intn(len(surnames))
	return append(b, surnames[min(i, j)]...)
}

func appendPerson(b []byte, r *rng) []byte {
	b = appendSurname(b, r)
	b = appendRune(b, givenChars[r.intn(len(givenChars))])
	if r.float() < 0.6 {
		b = appendRune(b, givenChars[r.intn(len(givenChars))])
	}
	return b
}

func appendRune(b []byte, c rune) []byte {
	// All name runes are in the BMP and above U+07FF: three UTF-8 bytes.
	return append(b, byte(0xE0|c>>12), byte(0x80|(c>>6)&0x3F), byte(0x80|c&0x3F))
}

// appendName appends the entity's registered name, drawn from its own
// random stream r:
//
//	enterprise: [山东|济南|平阴县] + 字号 + business word + 有限公司
//	individual: 历下区 + (张伟 | 老王 | 鑫达) + shop word
//	cooperative: 平阴县 + 字号 + product + 专业合作社
func (g *Generator) appendName(b []byte, kind int, div *division, ind *industry, r *rng) []byte {
	switch kind {
	case kindEnterprise:
		u := r.float()
		switch {
		case u < 0.12:
			b = append(b, plainProvince(g.reg.prov.name)...)
		case u < 0.45 && (div.kind == unitCounty || div.kind == unitCountyCity):
			b = append(b, div.local...)
		default:
			b = append(b, strings.TrimSuffix(g.reg.cities[div.city].name, "市")...)
		}
		b = appendTrade(b, r)
		b = append(b, ind.ent[r.intn(len(ind.ent))]...)
		return append(b, orgForms[r.intn(len(orgForms))]...)
	case kindIndividual:
		b = append(b, div.local...)
		switch u := r.float(); {
		case u < 0.5:
			b = appendPerson(b, r)
		case u < 0.7:
			b = append(b, "老"...)
			b = appendSurname(b, r)
		default:
			b = appendTrade(b, r)
		}
		words := ind.shop
		if len(words) == 0 {
			words = industries[retailIndustry].shop
		}
		return append(b, words[r.intn(len(words))]...)
	default:
		b = append(b, div.local...)
		b = appendTrade(b, r)
		words := ind.coop
		if len(words) == 0 {
			words = industries[0].coop
		}
		b = append(b, words[r.intn(len(words))]...)
		return append(b, "专业合作社"...)
	}
}

// retailIndustry is the index of F52 (retail), the fallback shop words.
var retailIndustry = func() int {
	for i, ind := range industries {
		if ind.code == "F52" {
			return i
		}
	}
	panic("synth: F52 missing from industries")
}()
