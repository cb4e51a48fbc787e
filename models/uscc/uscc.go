package uscc

import (
	"encoding/binary"
	"fmt"
)

// Alphabet is the 31-symbol alphabet of GB 32100-2015 in value order:
// digits 0–9 have values 0–9, then A=10 … Y=30 (no I, O, S, V, Z).
const Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100 weights W_i = 3^(i−1) mod 31 for positions 1..17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the GB 11714-1997 weights for the eight body characters of
// the organisation code (USCC positions 9–16).
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// usccValue maps an ASCII byte to its alphabet value, or -1 when the byte is
// not in the alphabet. Lowercase letters map like their uppercase forms so
// that normalisation and lookup are one step.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(Alphabet); i++ {
		c := Alphabet[i]
		t[c] = int8(i)
		if c >= 'A' && c <= 'Z' {
			t[c+'a'-'A'] = int8(i)
		}
	}
	return t
}()

// Code is a unified social credit code: 18 ASCII bytes, uppercase. The zero
// value is not a valid code. A USCC obtained from Parse has a valid
// format; its check characters are valid unless the parser accepted it as a
// known exception.
type Code [18]byte

// USCC reason codes, machine-readable (see Error).
const (
	ReasonLength   = "uscc_length"    // not exactly 18 characters
	ReasonCharset  = "uscc_charset"   // a character outside the 31-symbol alphabet
	ReasonDivision = "uscc_division"  // positions 3–8 are not six digits
	ReasonOrgCheck = "uscc_org_check" // position 17 fails the GB 11714 check
	ReasonCheck    = "uscc_check"     // position 18 fails the GB 32100 check
)

// Error says why a string is not a valid USCC.
type Error struct {
	Reason   string // one of the USCCReason* codes
	Position int    // 1-based position of the offending character, 0 if none
	Expected byte   // for check failures: the check character that was expected
	Input    string // the input, truncated to 40 bytes
}

func (e *Error) Error() string {
	switch e.Reason {
	case ReasonLength:
		return fmt.Sprintf("%s: %d characters, want 18", e.Reason, len(e.Input))
	case ReasonCharset:
		return fmt.Sprintf("%s: character %d (%q) is not in %s", e.Reason, e.Position, e.Input[e.Position-1], Alphabet)
	case ReasonDivision:
		return fmt.Sprintf("%s: character %d of the division code (positions 3-8) is not a digit", e.Reason, e.Position)
	case ReasonOrgCheck:
		return fmt.Sprintf("%s: organisation-code check character (position 17) is %q, GB 11714 gives %q", e.Reason, e.Input[16], e.Expected)
	case ReasonCheck:
		return fmt.Sprintf("%s: check character (position 18) is %q, GB 32100 gives %q", e.Reason, e.Input[17], e.Expected)
	}
	return e.Reason
}

// ParseFormat normalises s (lowercase letters become uppercase) and
// checks its length, alphabet and division digits, but not its check
// characters. It is the first half of Parse.
func ParseFormat(s string) (Code, error) {
	var c Code
	if len(s) != 18 {
		in := s
		if len(in) > 40 {
			in = in[:40]
		}
		return c, &Error{Reason: ReasonLength, Input: in}
	}
	for i := 0; i < 18; i++ {
		b := s[i]
		v := usccValue[b]
		if v < 0 {
			return c, &Error{Reason: ReasonCharset, Position: i + 1, Input: s}
		}
		c[i] = Alphabet[v]
		if i >= 2 && i < 8 && (b < '0' || b > '9') {
			return c, &Error{Reason: ReasonDivision, Position: i + 1, Input: s}
		}
	}
	return c, nil
}

// Parse parses and fully validates a USCC: format, the organisation-code
// check (position 17, GB 11714) and the code check (position 18, GB 32100).
// Lowercase input is normalised. Known exceptions are not consulted here;
// see Exceptions.Parse.
func Parse(s string) (Code, error) {
	c, err := ParseFormat(s)
	if err != nil {
		return c, checkCharError(s, err)
	}
	if err := c.verifyChecks(); err != nil {
		return c, err
	}
	return c, nil
}

// checkCharError turns a charset error at position 18 into a check error
// when the first 17 characters are well formed: "91350100M000100Y4Z" is
// a wrong check character (GB 32100 gives '3'), which says more than "Z is
// not in the alphabet".
func checkCharError(s string, err error) error {
	ue, ok := err.(*Error)
	if !ok || ue.Reason != ReasonCharset || ue.Position != 18 {
		return err
	}
	body := []byte(s[:17])
	for i, b := range body {
		body[i] = Alphabet[usccValue[b]]
	}
	if want := OrgCheckCharacter(body[8:16]); body[16] != want {
		return &Error{Reason: ReasonOrgCheck, Position: 17, Expected: want, Input: s}
	}
	return &Error{Reason: ReasonCheck, Position: 18, Expected: CheckCharacter(body), Input: s}
}

// verifyChecks checks both check characters of a well-formed code.
func (c Code) verifyChecks() error {
	if want := c.orgCheck(); c[16] != want {
		return &Error{Reason: ReasonOrgCheck, Position: 17, Expected: want, Input: c.String()}
	}
	if want := CheckCharacter(c[:17]); c[17] != want {
		return &Error{Reason: ReasonCheck, Position: 18, Expected: want, Input: c.String()}
	}
	return nil
}

// CheckCharacter computes the GB 32100 check character (position 18) of the
// first 17 characters. It returns 0 if body is not 17 alphabet characters.
func CheckCharacter(body []byte) byte {
	if len(body) != 17 {
		return 0
	}
	s := 0
	for i, b := range body {
		v := usccValue[b]
		if v < 0 {
			return 0
		}
		s += int(v) * usccWeights[i]
	}
	return Alphabet[(31-s%31)%31]
}

// OrgCheckCharacter computes the GB 11714 check character of an organisation
// code body of 8 characters (letters valued A=10 … Z=35). It returns 0 if a
// character is not a digit or an uppercase letter.
func OrgCheckCharacter(body []byte) byte {
	if len(body) != 8 {
		return 0
	}
	s := 0
	for i, b := range body {
		var v int
		switch {
		case b >= '0' && b <= '9':
			v = int(b - '0')
		case b >= 'A' && b <= 'Z':
			v = int(b-'A') + 10
		default:
			return 0
		}
		s += v * orgWeights[i]
	}
	switch c := 11 - s%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

func (c Code) orgCheck() byte { return OrgCheckCharacter(c[8:16]) }

// String returns the 18-character code.
func (c Code) String() string { return string(c[:]) }

// IsZero reports whether c is the zero value.
func (c Code) IsZero() bool { return c == Code{} }

// RegistrationAuthority is position 1: the registering department ('9' is
// market regulation).
func (c Code) RegistrationAuthority() byte { return c[0] }

// EntityType is position 2: the entity-type code within the registering
// department (under '9': '1' enterprise, '2' individual business,
// '3' farmers' cooperative).
func (c Code) EntityType() byte { return c[1] }

// Division is positions 3–8: the GB/T 2260 administrative division code of
// the registering authority.
func (c Code) Division() string { return string(c[2:8]) }

// Province is positions 3–4, the province part of the division code.
func (c Code) Province() string { return string(c[2:4]) }

// OrgCode is positions 9–17, the GB 11714 organisation code.
func (c Code) OrgCode() string { return string(c[8:17]) }

// EntityKind names the entity type for the market-regulation population and
// returns "" for other registering departments.
func (c Code) EntityKind() string {
	if c[0] != '9' {
		return ""
	}
	switch c[1] {
	case '1':
		return "enterprise"
	case '2':
		return "individual_business"
	case '3':
		return "farmers_cooperative"
	}
	return ""
}

// Exceptions is a configurable, immutable set of codes that fail a check
// character yet are real issued identities (pilot-era codes, domain.md §1.7).
// A nil *Exceptions is an empty set.
type Exceptions struct {
	set map[Code]struct{}
}

// PilotExceptions are the pilot-era Fujian codes documented in domain.md §1.6:
// real identities that fail the position-18 check.
var PilotExceptions = []string{"91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"}

// NewExceptions builds an exception set. Each code must be well formed
// (length, alphabet, division digits); codes that pass both checks are
// refused, since listing them would hide nothing and suggests a mistake.
func NewExceptions(codes ...string) (*Exceptions, error) {
	x := &Exceptions{set: make(map[Code]struct{}, len(codes))}
	for _, s := range codes {
		c, err := ParseFormat(s)
		if err != nil {
			return nil, fmt.Errorf("exception %q: %w", s, err)
		}
		if c.verifyChecks() == nil {
			return nil, fmt.Errorf("exception %q: the code passes both checks; it needs no exception", s)
		}
		x.set[c] = struct{}{}
	}
	return x, nil
}

// Len is the number of listed exceptions.
func (x *Exceptions) Len() int {
	if x == nil {
		return 0
	}
	return len(x.set)
}

// Contains reports whether c is a listed exception.
func (x *Exceptions) Contains(c Code) bool {
	if x == nil {
		return false
	}
	_, ok := x.set[c]
	return ok
}

// Parse validates s like Parse, but accepts a code that fails a check
// character when it is a listed exception; exception is then true and err
// holds nil. Callers must flag such codes wherever they are shown.
func (x *Exceptions) Parse(s string) (c Code, exception bool, err error) {
	c, err = ParseFormat(s)
	if err != nil {
		return c, false, checkCharError(s, err)
	}
	if err = c.verifyChecks(); err != nil {
		if x.Contains(c) {
			return c, true, nil
		}
		return c, false, err
	}
	return c, false, nil
}

// Packed is the fixed-size binary form of a USCC used by the engine.
// The 18 characters are one mixed-radix integer (base 31 for the alphabet
// positions, base 10 for the six division digits, positions 3–8), which
// needs 80 bits: 31^12 · 10^6 < 2^80. (All-base-31 would need 90 bits,
// since 31^18 > 2^89.) Packing preserves order: packed values compare,
// big-endian, like the codes' bytes.
type Packed [10]byte

// usccRadix is the radix of each position in the packed form.
var usccRadix = [18]uint64{31, 31, 10, 10, 10, 10, 10, 10, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31}

// Pack returns the packed form of a well-formed code. The result for a code
// that is not well formed is unspecified.
func (c Code) Pack() Packed {
	var hi, lo uint64 // 128-bit accumulator
	for i := 0; i < 18; i++ {
		v := uint64(usccValue[c[i]]) & 31
		m := usccRadix[i]
		l1 := lo * m
		hi = hi*m + mulHi(lo, m)
		lo = l1 + v
		if lo < l1 {
			hi++
		}
	}
	var p Packed
	binary.BigEndian.PutUint16(p[0:2], uint16(hi))
	binary.BigEndian.PutUint64(p[2:10], lo)
	return p
}

// mulHi returns the high 64 bits of a*b for b < 2^32.
func mulHi(a, b uint64) uint64 {
	aHi, aLo := a>>32, a&0xffffffff
	return (aHi*b + (aLo*b)>>32) >> 32
}

// Unpack returns the code packed in p.
func (p Packed) Unpack() Code {
	hi := uint64(binary.BigEndian.Uint16(p[0:2]))
	lo := binary.BigEndian.Uint64(p[2:10])
	var c Code
	for i := 17; i >= 0; i-- {
		m := usccRadix[i]
		rHi := hi % m
		hi /= m
		q, r := div128(rHi, lo, m)
		lo = q
		c[i] = Alphabet[r]
	}
	return c
}

// div128 divides (h<<64 | l) by m, where h < m < 2^32, returning the 64-bit
// quotient and the remainder. Long division in 32-bit steps keeps every
// intermediate below 2^37.
func div128(h, l, m uint64) (q, r uint64) {
	n1 := h<<32 | l>>32
	q1 := n1 / m
	n0 := (n1%m)<<32 | l&0xffffffff
	return q1<<32 | n0/m, n0 % m
}

// Hash returns a well-mixed 64-bit hash of the packed code.
func (p Packed) Hash() uint64 {
	x := binary.LittleEndian.Uint64(p[2:10]) ^ uint64(binary.LittleEndian.Uint16(p[0:2]))<<29
	// splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// InAlphabet reports whether c is one of the 31 USCC characters (upper case).
func InAlphabet(c byte) bool {
	v := usccValue[c]
	return v >= 0 && Alphabet[v] == c
}
