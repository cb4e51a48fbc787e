package console

import (
	"encoding/json"
	"slices"
	"testing"
)

// A penalty's types, procedure, sector and restriction period show in
// the page's language by their legal terms (models/event.AttrLabel).
func TestDetailRowsPenaltyAttributes(t *testing.T) {
	raw := json.RawMessage(`{"severity":"general","decision_no":"X1","penalty_types":["warning","confiscation"],"restriction_months":6,"procedure":"ordinary","sector":"food"}`)
	for _, c := range []struct {
		lang string
		want []kv
	}{
		{"zh", []kv{{"情节", "一般"}, {"决定书文号", "X1"}, {"处罚种类", "警告、没收违法所得、没收非法财物"}, {"限制期限（月）", "6"}, {"处罚程序", "普通程序"}, {"领域", "食品"}}},
		{"en", []kv{{"Severity", "general"}, {"Decision no.", "X1"}, {"Penalty types", "warning, confiscation"}, {"Restriction (months)", "6"}, {"Procedure", "ordinary procedure"}, {"Sector", "food"}}},
	} {
		if got := detailRows(&View{Lang: c.lang}, raw); !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.lang, got, c.want)
		}
	}
}
