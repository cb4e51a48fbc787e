package synth

import "fmt"

// province is one GB/T 2260 province-level division.
type province struct {
	code  string // two digits
	name  string // full name, "山东省"
	short string // one-character abbreviation used in document numbers, "鲁"
}

// provinces are the 31 province-level divisions of mainland China (GB/T 2260).
var provinces = []province{
	{"11", "北京市", "京"}, {"12", "天津市", "津"}, {"13", "河北省", "冀"}, {"14", "山西省", "晋"},
	{"15", "内蒙古自治区", "蒙"}, {"21", "辽宁省", "辽"}, {"22", "吉林省", "吉"}, {"23", "黑龙江省", "黑"},
	{"31", "上海市", "沪"}, {"32", "江苏省", "苏"}, {"33", "浙江省", "浙"}, {"34", "安徽省", "皖"},
	{"35", "福建省", "闽"}, {"36", "江西省", "赣"}, {"37", "山东省", "鲁"}, {"41", "河南省", "豫"},
	{"42", "湖北省", "鄂"}, {"43", "湖南省", "湘"}, {"44", "广东省", "粤"}, {"45", "广西壮族自治区", "桂"},
	{"46", "海南省", "琼"}, {"50", "重庆市", "渝"}, {"51", "四川省", "川"}, {"52", "贵州省", "黔"},
	{"53", "云南省", "云"}, {"54", "西藏自治区", "藏"}, {"61", "陕西省", "陕"}, {"62", "甘肃省", "甘"},
	{"63", "青海省", "青"}, {"64", "宁夏回族自治区", "宁"}, {"65", "新疆维吾尔自治区", "新"},
}

func lookupProvince(code string) (province, bool) {
	for _, p := range provinces {
		if p.code == code {
			return p, true
		}
	}
	return province{}, false
}

// cityDef is a prefecture-level city with its county-level divisions.
type cityDef struct {
	code   string  // six digits, "370100"
	name   string  // "济南市"
	short  string  // one character used in penalty decision numbers, "济"
	weight float64 // share of the province's entities (relative)
	units  []unitDef
}

// unitDef is a county-level division (district 区, county 县, or
// county-level city 市) under a city.
type unitDef struct {
	code string
	name string
}

// shandong lists the 16 prefecture-level cities of Shandong and their 136
// county-level divisions, with GB/T 2260 codes as in force after the 2019
// merger of Laiwu into Jinan and the 2020–2021 changes (长岛 into 蓬莱区,
// 茌平 and 垦利 and 定陶 as districts, 邹平 as a county-level city).
//
// City weights are the resident populations of the 7th national census
// (2020, in 10,000 persons) as published in Shandong's census communiqué:
// market entities follow population closely (domain.md §7 gives only the
// provincial total, 6.2–8.1 million in 2015–2017, and no city split).
var shandong = []cityDef{
	{"370100", "济南市", "济", 920.2, []unitDef{
		{"370102", "历下区"}, {"370103", "市中区"}, {"370104", "槐荫区"}, {"370105", "天桥区"},
		{"370112", "历城区"}, {"370113", "长清区"}, {"370114", "章丘区"}, {"370115", "济阳区"},
		{"370116", "莱芜区"}, {"370117", "钢城区"}, {"370124", "平阴县"}, {"370126", "商河县"}}},
	{"370200", "青岛市", "青", 1007.2, []unitDef{
		{"370202", "市南区"}, {"370203", "市北区"}, {"370211", "黄岛区"}, {"370212", "崂山区"},
		{"370213", "李沧区"}, {"370214", "城阳区"}, {"370215", "即墨区"}, {"370281", "胶州市"},
		{"370283", "平度市"}, {"370285", "莱西市"}}},
	{"370300", "淄博市", "淄", 470.4, []unitDef{
		{"370302", "淄川区"}, {"370303", "张店区"}, {"370304", "博山区"}, {"370305", "临淄区"},
		{"370306", "周村区"}, {"370321", "桓台县"}, {"370322", "高青县"}, {"370323", "沂源县"}}},
	{"370400", "枣庄市", "枣", 385.6, []unitDef{
		{"370402", "市中区"}, {"370403", "薛城区"}, {"370404", "峄城区"}, {"370405", "台儿庄区"},
		{"370406", "山亭区"}, {"370481", "滕州市"}}},
	{"370500", "东营市", "东", 219.4, []unitDef{
		{"370502", "东营区"}, {"370503", "河口区"}, {"370505", "垦利区"}, {"370522", "利津县"},
		{"370523", "广饶县"}}},
	{"370600", "烟台市", "烟", 710.2, []unitDef{
		{"370602", "芝罘区"}, {"370611", "福山区"}, {"370612", "牟平区"}, {"370613", "莱山区"},
		{"370614", "蓬莱区"}, {"370681", "龙口市"}, {"370682", "莱阳市"}, {"370683", "莱州市"},
		{"370685", "招远市"}, {"370686", "栖霞市"}, {"370687", "海阳市"}}},
	{"370700", "潍坊市", "潍", 938.7, []unitDef{
		{"370702", "潍城区"}, {"370703", "寒亭区"}, {"370704", "坊子区"}, {"370705", "奎文区"},
		{"370724", "临朐县"}, {"370725", "昌乐县"}, {"370781", "青州市"}, {"370782", "诸城市"},
		{"370783", "寿光市"}, {"370784", "安丘市"}, {"370785", "高密市"}, {"370786", "昌邑市"}}},
	{"370800", "济宁市", "宁", 835.8, []unitDef{
		{"370811", "任城区"}, {"370812", "兖州区"}, {"370826", "微山县"}, {"370827", "鱼台县"},
		{"370828", "金乡县"}, {"370829", "嘉祥县"}, {"370830", "汶上县"}, {"370831", "泗水县"},
		{"370832", "梁山县"}, {"370881", "曲阜市"}, {"370883", "邹城市"}}},
	{"370900", "泰安市", "泰", 564.7, []unitDef{
		{"370902", "泰山区"}, {"370911", "岱岳区"}, {"370921", "宁阳县"}, {"370923", "东平县"},
		{"370982", "新泰市"}, {"370983", "肥城市"}}},
	{"371000", "威海市", "威", 290.7, []unitDef{
		{"371002", "环翠区"}, {"371003", "文登区"}, {"371082", "荣成市"}, {"371083", "乳山市"}}},
	{"371100", "日照市", "日", 296.8, []unitDef{
		{"371102", "东港区"}, {"371103", "岚山区"}, {"371121", "五莲县"}, {"371122", "莒县"}}},
	{"371300", "临沂市", "临", 1101.8, []unitDef{
		{"371302", "兰山区"}, {"371311", "罗庄区"}, {"371312", "河东区"}, {"371321", "沂南县"},
		{"371322", "郯城县"}, {"371323", "沂水县"}, {"371324", "兰陵县"}, {"371325", "费县"},
		{"371326", "平邑县"}, {"371327", "莒南县"}, {"371328", "蒙阴县"}, {"371329", "临沭县"}}},
	{"371400", "德州市", "德", 561.1, []unitDef{
		{"371402", "德城区"}, {"371403", "陵城区"}, {"371422", "宁津县"}, {"371423", "庆云县"},
		{"371424", "临邑县"}, {"371425", "齐河县"}, {"371426", "平原县"}, {"371427", "夏津县"},
		{"371428", "武城县"}, {"371481", "乐陵市"}, {"371482", "禹城市"}}},
	{"371500", "聊城市", "聊", 595.2, []unitDef{
		{"371502", "东昌府区"}, {"371503", "茌平区"}, {"371521", "阳谷县"}, {"371522", "莘县"},
		{"371524", "东阿县"}, {"371525", "冠县"}, {"371526", "高唐县"}, {"371581", "临清市"}}},
	{"371600", "滨州市", "滨", 392.9, []unitDef{
		{"371602", "滨城区"}, {"371603", "沾化区"}, {"371621", "惠民县"}, {"371622", "阳信县"},
		{"371623", "无棣县"}, {"371625", "博兴县"}, {"371681", "邹平市"}}},
	{"371700", "菏泽市", "菏", 879.6, []unitDef{
		{"371702", "牡丹区"}, {"371703", "定陶区"}, {"371721", "曹县"}, {"371722", "单县"},
		{"371723", "成武县"}, {"371724", "巨野县"}, {"371725", "郓城县"}, {"371726", "鄄城县"},
		{"371728", "东明县"}}},
}

// Unit kinds: what a county-level division is, which sets its weight.
const (
	unitCity       = iota // the city-level registration bureau (code ends in 00)
	unitDistrict          // 市辖区
	unitCounty            // 县
	unitCountyCity        // 县级市
)

// Within a city, a division's share of the city's entities of each kind is
// proportional to these weights (documented in README.md "Divisions"):
// urban districts hold more enterprises and shops, counties more farmers'
// cooperatives; only enterprises are registered at the city-level bureau
// (codes like 370100, as in real codes 91370100…), which takes
// cityBureauShare of the city's enterprises.
var unitWeight = [4][numKinds]float64{
	unitCity:       {0, 0, 0},
	unitDistrict:   {1.5, 1.3, 0.6},
	unitCounty:     {1.0, 1.0, 1.6},
	unitCountyCity: {1.1, 1.1, 1.3},
}

const cityBureauShare = 0.15

// division is one registration division of the generated province.
type division struct {
	code      string // six digits
	city      int    // index into region.cities
	kind      int    // unit* constant
	local     string // name used as a prefix of local shop names: "历下区", "胶州市", "济南市"
	full      string // full name for authorities: "济南市历下区", "胶州市", "济南市"
	courtNo   string // court code in case numbers: "鲁0102"; "鲁01" for the intermediate court
	synthetic bool
}

// region is the generated province: its cities and divisions, and the
// cumulative division weights for each entity kind.
type region struct {
	prov      province
	cities    []cityDef
	divs      []division
	cum       [numKinds][]float64 // cumulative weights over divs, normalised to 1
	synthetic bool
}

// loadRegion builds the province tables for a two-digit province code.
// Shandong (37) has the real GB/T 2260 divisions. Any other province gets a
// synthetic, well-formed but not real set of divisions (8 cities × 5 units)
// and generic place names; README.md says so.
func loadRegion(code string) (*region, error) {
	p, ok := lookupProvince(code)
	if !ok {
		return nil, fmt.Errorf("region %q is not a GB/T 2260 province code (11–65)", code)
	}
	r := &region{prov: p}
	if code == "37" {
		r.cities = shandong
	} else {
		r.cities = syntheticCities(code)
		r.synthetic = true
	}
	var cityTotal float64
	for _, c := range r.cities {
		cityTotal += c.weight
	}
	var w [numKinds][]float64
	for ci, c := range r.cities {
		cityName := c.name
		// The city-level bureau.
		r.divs = append(r.divs, division{code: c.code, city: ci, kind: unitCity, local: cityName, full: cityName,
			courtNo: p.short + c.code[2:4], synthetic: r.synthetic})
		cityDivIdx := len(r.divs) - 1
		var unitSum [numKinds]float64
		first := len(r.divs)
		for _, u := range c.units {
			k := unitKindOf(u.name)
			d := division{code: u.code, city: ci, kind: k, local: u.name, full: u.name, courtNo: p.short + u.code[2:6],
				synthetic: r.synthetic}
			if k == unitDistrict || r.synthetic {
				d.full = cityName + u.name
			}
			if r.synthetic {
				d.local = d.full
			}
			r.divs = append(r.divs, d)
			for kind := range numKinds {
				unitSum[kind] += unitWeight[k][kind]
			}
		}
		for kind := range numKinds {
			for len(w[kind]) < len(r.divs) {
				w[kind] = append(w[kind], 0)
			}
			share := c.weight / cityTotal
			rest := share
			if kind == kindEnterprise {
				w[kind][cityDivIdx] = share * cityBureauShare
				rest = share * (1 - cityBureauShare)
			}
			for j := first; j < len(r.divs); j++ {
				w[kind][j] = rest * unitWeight[r.divs[j].kind][kind] / unitSum[kind]
			}
		}
	}
	if len(r.divs) > 255 {
		return nil, fmt.Errorf("region %s: %d divisions, at most 255 supported", code, len(r.divs))
	}
	for kind := range numKinds {
		cum := make([]float64, len(r.divs))
		var s float64
		for j, x := range w[kind] {
			s += x
			cum[j] = s
		}
		for j := range cum {
			cum[j] /= s
		}
		cum[len(cum)-1] = 1
		r.cum[kind] = cum
	}
	return r, nil
}

func unitKindOf(name string) int {
	switch {
	case hasSuffix(name, "区"):
		return unitDistrict
	case hasSuffix(name, "县"):
		return unitCounty
	default:
		return unitCountyCity
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// Synthetic place names for provinces without a built-in table: the ten
// Heavenly Stems name the cities, compass points the districts. They are
// clearly not real places.
var (
	synthCityNames = []string{"甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"}
	synthUnitNames = []string{"东区", "西区", "南区", "北区", "新县"}
	synthUnitCodes = []string{"02", "03", "04", "05", "21"}
)

func syntheticCities(code string) []cityDef {
	out := make([]cityDef, len(synthCityNames))
	for i, n := range synthCityNames {
		cc := code + fmt.Sprintf("%02d", i+1)
		c := cityDef{code: cc + "00", name: n + "市", short: n, weight: float64(len(synthCityNames) - i)}
		for j, u := range synthUnitNames {
			c.units = append(c.units, unitDef{code: cc + synthUnitCodes[j], name: u})
		}
		out[i] = c
	}
	return out
}
