package uscc

import (
	"errors"
	"testing"
)

// TestOrgCheckVectors: the organisation-code check character (position 17)
// of GB 11714-1997 (domain.md §1.4, §9.4): weights 3,7,9,10,5,8,4,2,
// C = 11 − (Σ mod 11), 10 → 'X', 11 → '0', letters valued A=10 … Z=35 (not
// the 31-symbol USCC values). Each sum is worked out by hand in the row.
func TestOrgCheckVectors(t *testing.T) {
	for _, c := range []struct {
		body string
		want byte
		sum  string
	}{
		{"12345678", '8', "3+14+27+40+25+48+28+16 = 201; 201 mod 11 = 3; 11−3 = 8 (§9.4)"},
		{"MA1K3BTP", '2', "M22·3+A10·7+1·9+K20·10+3·5+B11·8+T29·4+P25·2 = 614; mod 11 = 9 → 2 (§9.4)"},
		{"00000006", 'X', "6·2 = 12; mod 11 = 1; 11−1 = 10 → X"},
		{"0000008Y", 'X', "8·4 + Y34·2 = 100; mod 11 = 1 → 10 → X (USCC value Y=30 would give 7)"},
		{"00000000", '0', "0; mod 11 = 0; 11−0 = 11 → 0"},
		{"01000002", '0', "1·7 + 2·2 = 11; mod 11 = 0 → 11 → 0"},
		{"0000005Y", '0', "5·4 + Y34·2 = 88; mod 11 = 0 → 11 → 0 (USCC value Y=30 would give 8)"},
		{"10000000", '8', "1·3 = 3 → 8"},
		{"00000001", '9', "1·2 = 2 → 9"},
	} {
		if got := OrgCheckCharacter([]byte(c.body)); got != c.want {
			t.Errorf("OrgCheckCharacter(%s) = %q, want %q (%s)", c.body, got, c.want, c.sum)
		}
	}
}

// TestOrgCheckInUSCC: whole codes whose position 17 is the org check above
// and whose position 18 is the GB 32100 check (§1.3) of the first 17; the
// wrong variants change position 17 only (and carry the position-18 check
// of their own first 17 characters), so only the GB 11714 check can fail.
func TestOrgCheckIn(t *testing.T) {
	for _, c := range []struct {
		code   string
		reason string // "" valid
		want   byte   // expected position 17 when wrong
	}{
		{"913701000000008YX0", "", 0},
		{"9137010000000006XR", "", 0},
		{"913701000000005Y05", "", 0},
		{"91370100010000020X", "", 0},
		{"91370100000000000R", "", 0},
		{"913701001234567881", "", 0},
		{"913701000000008Y7U", ReasonOrgCheck, 'X'}, // 7 is what the USCC letter values would give
		{"913701000000005Y8X", ReasonOrgCheck, '0'},
		{"913701000000000600", ReasonOrgCheck, 'X'}, // '0' where 10 → X
		{"9137010001000002XP", ReasonOrgCheck, '0'}, // 'X' where 11 → 0
	} {
		_, err := Parse(c.code)
		if c.reason == "" {
			if err != nil {
				t.Errorf("%s: %v, want valid", c.code, err)
			}
			continue
		}
		var ue *Error
		if !errors.As(err, &ue) || ue.Reason != c.reason || ue.Position != 17 || ue.Expected != c.want {
			t.Errorf("%s: %v, want %s at 17 expecting %q", c.code, err, c.reason, c.want)
		}
	}
}
