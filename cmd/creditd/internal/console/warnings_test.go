package console

import (
	"regexp"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/sampler"
)

// Each known warning form, as the sampler writes it, gets its code and is
// rendered in Chinese and English with the record's values (worked out
// by hand); an unknown text is shown as written. The first round-up
// warning is the sampler's own (SampleSizesV2: 0.1% of 100 rounds to 0,
// 1 drawn); the others are written out as the sampler writes them
// (draw.Warning's forms, whose own tests check them against the
// sampler's draws). A text close to a form but not as the sampler writes
// it (a π as a fraction) is of no known form.
func TestWarningsKnown(t *testing.T) {
	scheme, err := tier.LookupScheme("national-4")
	if err != nil {
		t.Fatal(err)
	}
	_, ws := sampler.SampleSizesV2(&draw.Allocation{Ratios: []draw.TierValue{}}, []int64{1000, 500_000, 500_000, 500_000},
		[]int64{100, 100, 100, 100}, scheme)
	if len(ws) != 1 {
		t.Fatalf("SampleSizesV2 warnings %q, want the one round-up", ws)
	}
	cases := []struct {
		in, code, zh, en string
	}{
		{ws[0].String(), "roundup", "A 类：抽查比例 0.001（共 100 户）取整为 0，按“不免抽”原则抽取 1 户。",
			"Stratum A: ratio 0.001 of 100 rounds to 0; 1 is drawn (no tier is silently exempt, 不免抽)."},
		{"stratum D: weight 3 of 7 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)", "roundup",
			"D 类：预算权重 3（共 7 户）取整为 0，按“不免抽”原则抽取 1 户。",
			"Stratum D: weight 3 of 7 rounds to 0; 1 is drawn (no tier is silently exempt, 不免抽)."},
		{"the eligible population is empty: nothing was drawn", "empty", "符合条件的抽查对象为空，未抽取任何主体。",
			"The eligible population is empty: nothing was drawn."},
		{"the sample is 2.50% of the eligible population (15 of 600), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
			"floor", "抽取比例为 2.50%（600 户中抽取 15 户），低于企业公示信息抽查 3% 的下限（《企业公示信息抽查暂行办法》第四条）。",
			"The sample is 2.50% of the eligible population (15 of 600), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)."},
		{"after rounding, tier C's inclusion probability 0.333333 is below tier B's 0.400000", "order", "取整后，C 类的抽中概率 0.333333 低于 B 类的 0.400000。",
			"After rounding, tier C's inclusion probability 0.333333 is below tier B's 0.400000."},
		{"after rounding, tier E's inclusion probability 0.000000 is below tier D's 0.050000", "order", "取整后，E 类的抽中概率 0.000000 低于 D 类的 0.050000。",
			"After rounding, tier E's inclusion probability 0.000000 is below tier D's 0.050000."},
		{"after rounding, tier C's inclusion probability 1/3 is below tier B's 2/5", "",
			"after rounding, tier C's inclusion probability 1/3 is below tier B's 2/5", "after rounding, tier C's inclusion probability 1/3 is below tier B's 2/5"},
		{"12 registered entities matching the filter had no tier as of as_of and are not in the population", "untiered",
			"有 12 户符合筛选条件的已登记主体在抽查时点没有风险分类，未纳入抽查对象。",
			"12 registered entities matching the filter had no tier as of the draw's instant and are not in the population."},
		{"something new the sampler says", "", "something new the sampler says", "something new the sampler says"},
	}
	zh, en := &View{Lang: "zh"}, &View{Lang: "en"}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.code] = true
		z, e := zh.Warnings([]string{c.in})[0], en.Warnings([]string{c.in})[0]
		if z.Code != c.code || z.Text != c.zh || e.Text != c.en || z.Original != c.in {
			t.Errorf("%q:\n code %q, want %q\n zh %q\n en %q", c.in, z.Code, c.code, z.Text, e.Text)
		}
	}
	for _, code := range []draw.WarningCode{draw.WarnEmpty, draw.WarnFloor, draw.WarnOrder, draw.WarnRoundUp, draw.WarnUntiered} {
		if !seen[string(code)] {
			t.Errorf("no case of %s", code)
		}
	}
}

// The wizard's preview of tiny ratios shows the round-up and floor
// warnings in Chinese, each with its code, none left in English.
func TestPreviewWarningsTranslated(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c)
	_, page := h.get(t, c, "/console/reg/draws/new")
	form := wizardForm(csrfOf(t, page), "warn-1")
	for _, l := range []string{"A", "B", "C", "D"} {
		form["ratio_"+l] = "0.01"
	}
	_, prev := h.post(t, c, "/console/reg/draws/preview", form)
	i := strings.Index(prev, `<ul class="warnings">`)
	if i < 0 {
		t.Fatalf("no warnings on the preview: %s", prev[strings.Index(prev, "<main"):])
	}
	list := prev[i : i+strings.Index(prev[i:], "</ul>")]
	codes := regexp.MustCompile(`data-code="(\w*)"`).FindAllStringSubmatch(list, -1)
	seen := map[string]bool{}
	for _, m := range codes {
		seen[m[1]] = true
	}
	if !seen["roundup"] || !seen["floor"] || seen[""] || !strings.Contains(list, "按“不免抽”原则抽取 1 户") || strings.Contains(list, "rounds to 0") {
		t.Errorf("preview warnings %v:\n%s", codes, list)
	}
}
