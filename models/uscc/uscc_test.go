package uscc

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// The vectors of domain.md §1.6 and §9, each with the outcome listed there.
func TestDomainVectors(t *testing.T) {
	tests := []struct {
		code   string
		reason string // "" = valid
	}{
		{"914403001922038216", ""},
		{"91350100M000100Y43", ""},
		{"91350100M000100Y4Z", ReasonCheck},
		{"91110000600037341L", ""},
		{"91110000600037341N", ReasonCheck},
		{"91310115MA1K3BTP2B", ""},
		{"92340602MA2PBMEM24", ""},
		{"121200004013590816", ""},
		{"91620105L015101280", ""},
		{"91350100M0001TGQXM", ReasonCheck},
		{"91350211M0000XUF46", ReasonCheck},
		{"91350203M0001FUE2P", ReasonCheck},
		// lowercase is normalised before checking
		{"91310115ma1k3btp2b", ""},
		// malformed
		{"91350100M000100Y4", ReasonLength},
		{"9135010OM000100Y43", ReasonCharset},
		{"91350I00M000100Y43", ReasonCharset},
		{"913501Z0M000100Y43", ReasonCharset},
		{"91A50100M000100Y43", ReasonDivision},
		{"", ReasonLength},
	}
	for _, tt := range tests {
		c, err := Parse(tt.code)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("%s: %v, want valid", tt.code, err)
			}
			continue
		}
		var ue *Error
		if !errors.As(err, &ue) || ue.Reason != tt.reason {
			t.Errorf("%s: err %v, want reason %s", tt.code, err, tt.reason)
		}
		_ = c
	}
}

func TestExpectedChecks(t *testing.T) {
	for code, want := range map[string]byte{
		"91350100M000100Y4Z": '3', "91110000600037341N": 'L',
		"91350100M0001TGQXM": '1', "91350211M0000XUF46": 'R', "91350203M0001FUE2P": 'J',
	} {
		_, err := Parse(code)
		var ue *Error
		if !errors.As(err, &ue) || ue.Expected != want {
			t.Errorf("%s: %v, want expected %q", code, err, want)
		}
	}
	if got := OrgCheckCharacter([]byte("12345678")); got != '8' {
		t.Errorf("org check 12345678 = %q, want 8", got)
	}
	if got := OrgCheckCharacter([]byte("MA1K3BTP")); got != '2' {
		t.Errorf("org check MA1K3BTP = %q, want 2", got)
	}
}

func TestExceptions(t *testing.T) {
	x, err := NewExceptions(PilotExceptions...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range PilotExceptions {
		c, exc, err := x.Parse(s)
		if err != nil || !exc || c.String() != s {
			t.Errorf("%s: %v exc=%v", s, err, exc)
		}
	}
	if _, exc, err := x.Parse("914403001922038216"); err != nil || exc {
		t.Errorf("valid code flagged: %v %v", exc, err)
	}
	if _, _, err := x.Parse("91110000600037341N"); err == nil {
		t.Error("unlisted invalid code accepted")
	}
	if _, err := NewExceptions("914403001922038216"); err == nil {
		t.Error("a valid code was accepted as an exception")
	}
	if _, err := NewExceptions("bad"); err == nil {
		t.Error("a malformed exception was accepted")
	}
	var none *Exceptions
	if none.Contains(Code{}) || none.Len() != 0 {
		t.Error("nil exceptions not empty")
	}
}

func TestAccessors(t *testing.T) {
	c, err := Parse("92340602MA2PBMEM24")
	if err != nil {
		t.Fatal(err)
	}
	if c.RegistrationAuthority() != '9' || c.EntityType() != '2' || c.Division() != "340602" ||
		c.Province() != "34" || c.OrgCode() != "MA2PBMEM2" || c.EntityKind() != "individual_business" {
		t.Errorf("accessors: %c %c %s %s %s %s", c.RegistrationAuthority(), c.EntityType(), c.Division(), c.Province(), c.OrgCode(), c.EntityKind())
	}
}

// randomCode returns a well-formed code with random characters.
func randomCode(r *rand.Rand) Code {
	var c Code
	for i := range c {
		if i >= 2 && i < 8 {
			c[i] = byte('0' + r.IntN(10))
		} else {
			c[i] = Alphabet[r.IntN(31)]
		}
	}
	return c
}

func TestPackRoundTripAndOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	extremes := []Code{}
	var lo, hi Code
	for i := range lo {
		lo[i], hi[i] = '0', 'Y'
		if i >= 2 && i < 8 {
			hi[i] = '9'
		}
	}
	extremes = append(extremes, lo, hi)
	prev := lo
	for i := 0; i < 100000; i++ {
		c := randomCode(r)
		if i < len(extremes) {
			c = extremes[i]
		}
		p := c.Pack()
		if p.Unpack() != c {
			t.Fatalf("round trip %s -> %x -> %s", c, p, p.Unpack())
		}
		pp := prev.Pack()
		if (bytes.Compare(prev[:], c[:]) < 0) != (bytes.Compare(pp[:], p[:]) < 0) {
			t.Fatalf("order not preserved: %s %s", prev, c)
		}
		prev = c
	}
	if p := hi.Pack(); p.Unpack() != hi {
		t.Errorf("max code %s does not round-trip through %x", hi, p)
	}
}
