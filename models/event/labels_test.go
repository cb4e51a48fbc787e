package event

import "testing"

// Every wire value of the enumerated penalty attributes has a label in
// both languages, and nothing else has one.
func TestAttrLabelsCoverEveryValue(t *testing.T) {
	for attr, names := range map[string][]string{
		"penalty_types": PenaltyTypeNames(),
		"procedure":     procedureNames[1:],
		"sector":        sectorNames[1:],
	} {
		if len(attrLabels[attr]) != len(names) {
			t.Errorf("%s: %d labels for %d values", attr, len(attrLabels[attr]), len(names))
		}
		for _, n := range names {
			if zh, en, ok := AttrLabel(attr, n); !ok || zh == "" || en == "" {
				t.Errorf("%s %q: no label (%q, %q)", attr, n, zh, en)
			}
		}
	}
	for _, c := range [][2]string{{"severity", "general"}, {"sector", "mining"}, {"penalty_types", ""}} {
		if _, _, ok := AttrLabel(c[0], c[1]); ok {
			t.Errorf("%s %q has a label", c[0], c[1])
		}
	}
	if zh, _, _ := AttrLabel("penalty_types", "business_licence_revocation"); zh != "吊销营业执照" {
		t.Errorf("business_licence_revocation: %q", zh)
	}
}
