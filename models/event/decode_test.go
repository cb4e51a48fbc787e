package event

import (
	"encoding/json"
	"errors"
	"github.com/creditrisk/creditd/models/uscc"
	"reflect"
	"strings"
	"testing"
	"time"
)

const huawei = "914403001922038216"

func line(typ, attrs string) string {
	s := `{"id":"E-1","uscc":"` + huawei + `","type":"` + typ + `","occurred_at":"2026-03-01T08:00:00+08:00","authority":"SAMR-440300"`
	if attrs != "" {
		s += `,"attrs":` + attrs
	}
	return s + "}"
}

func TestDecodeEveryType(t *testing.T) {
	tests := []struct {
		typ, attrs string
		check      func(e *Event) bool
	}{
		{"registered", `{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15","industry":"C39"}`,
			func(e *Event) bool {
				return e.Name == "华为技术有限公司" && e.Region == "440300" && e.RegisteredOn.String() == "1987-09-15" && e.Industry == "C39"
			}},
		{"deregistered", ``, func(e *Event) bool { return len(e.RawAttrs) == 0 }},
		{"deregistered", `{}`, func(e *Event) bool { return string(e.RawAttrs) == "{}" }},
		{"penalty", `{"severity":"serious","decision_no":"深市监罚〔2026〕1号","amount_yuan":50000}`,
			func(e *Event) bool { return e.Sub == SeveritySerious && e.AmountYuan == 50000 && e.DecisionNo != "" }},
		{"penalty", `{"severity":"minor","decision_no":"x"}`, func(e *Event) bool { return e.Sub == SeverityMinor && e.AmountYuan == -1 }},
		{"abnormal_listed", `{"reason":"unreachable_at_address"}`, func(e *Event) bool { return e.Sub == AbnormalUnreachable && e.Reason == "unreachable_at_address" }},
		{"abnormal_removed", `{"ref":"E-0"}`, func(e *Event) bool { return e.Ref == "E-0" }},
		{"dishonest_listed", `{"reason":"严重违法"}`, func(e *Event) bool { return e.Reason == "严重违法" }},
		{"dishonest_removed", `{"ref":"E-0"}`, func(e *Event) bool { return e.Ref == "E-0" }},
		{"court_debtor_listed", `{"case_no":"(2026)鲁01执1号"}`, func(e *Event) bool { return e.CaseNo != "" }},
		{"court_debtor_removed", `{"ref":"E-0"}`, func(e *Event) bool { return e.Ref == "E-0" }},
		{"inspection", `{"plan_id":"P1","result":"problem_found"}`, func(e *Event) bool { return e.PlanID == "P1" && e.Sub == ResultProblemFound }},
		{"annual_report", `{"year":2025,"on_time":false}`, func(e *Event) bool { return e.Year == 2025 && !e.OnTime }},
		{"commitment_made", `{"commitment_no":"C1","matter":"许可"}`, func(e *Event) bool { return e.CommitmentNo == "C1" && e.Matter == "许可" }},
		{"commitment_breached", `{"ref":"C-0"}`, func(e *Event) bool { return e.Ref == "C-0" }},
		{"commitment_fulfilled", `{"ref":"C-0"}`, func(e *Event) bool { return e.Ref == "C-0" }},
		{"tax_rating", `{"year":2025,"level":"M"}`, func(e *Event) bool { return e.Year == 2025 && e.Sub == TaxM }},
		{"honor", `{"title":"守合同重信用","level":"provincial"}`, func(e *Event) bool { return e.Sub == HonorProvincial }},
		{"complaint", `{"substantiated":true}`, func(e *Event) bool { return e.Substantiated }},
		{"repair", `{"ref":"E-0","decided_on":"2026-09-01","note":"kept"}`, func(e *Event) bool {
			return e.Ref == "E-0" && e.DecidedOn.String() == "2026-09-01" && strings.Contains(string(e.RawAttrs), `"note":"kept"`)
		}},
		{"objection_filed", `{"ref":"E-0","reason":"处罚决定已被撤销"}`, func(e *Event) bool { return e.Ref == "E-0" && e.Reason == "处罚决定已被撤销" }},
		{"objection_answered", `{"ref":"O-0","outcome":"referred","reasons":"需公安机关核实"}`, func(e *Event) bool {
			return e.Ref == "O-0" && e.Sub == OutcomeReferred && e.Reason == "需公安机关核实"
		}},
	}
	var d Decoder
	var ev Event
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.typ] = true
		if err := d.Decode([]byte(line(tt.typ, tt.attrs)), &ev); err != nil {
			t.Errorf("%s %s: %v", tt.typ, tt.attrs, err)
			continue
		}
		if ev.Type.String() != tt.typ || ev.ID != "E-1" || ev.USCC.String() != huawei || ev.Authority != "SAMR-440300" {
			t.Errorf("%s: header fields wrong: %+v", tt.typ, ev)
		}
		if !ev.OccurredAt.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || ev.OccurredAt.Location() != time.UTC {
			t.Errorf("%s: occurred_at %v", tt.typ, ev.OccurredAt)
		}
		if !tt.check(&ev) {
			t.Errorf("%s %s: attrs decoded wrong: %+v", tt.typ, tt.attrs, ev)
		}
	}
	for _, typ := range Types() {
		if !seen[typ.String()] {
			t.Errorf("type %s not covered", typ)
		}
	}
}

// Every class of bad input in events.md, with its reason code.
func TestDecodeRejects(t *testing.T) {
	reg := `{"name":"n","region":"440300","registered_on":"2020-01-01"}`
	tests := []struct {
		name, in, reason, field string
	}{
		{"empty", ``, ReasonNotJSON, ""},
		{"garbage", `not json`, ReasonNotJSON, ""},
		{"truncated", `{"id":"E-1","uscc":`, ReasonNotJSON, ""},
		{"trailing", line("penalty", `{"severity":"minor","decision_no":"x"}`) + `x`, ReasonNotJSON, ""},
		{"two objects", `{} {}`, ReasonNotJSON, ""},
		{"trailing NUL", line("penalty", `{"severity":"minor","decision_no":"x"}`) + "\x00", ReasonNotJSON, ""}, // a NUL byte is not the end of the line
		{"string then NUL", "\"x\"\x00", ReasonNotJSON, ""},
		{"bad utf8", "{\"id\":\"E\xff\"}", ReasonNotJSON, ""},
		{"array", `[1,2]`, ReasonNotObject, ""},
		{"string", `"x"`, ReasonNotObject, ""},
		{"missing id", `{"uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonMissingField, "id"},
		{"missing uscc", `{"id":"x","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonMissingField, "uscc"},
		{"missing type", `{"id":"x","uscc":"` + huawei + `","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonMissingField, "type"},
		{"missing occurred_at", `{"id":"x","uscc":"` + huawei + `","type":"deregistered","authority":"a"}`, ReasonMissingField, "occurred_at"},
		{"missing authority", `{"id":"x","uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z"}`, ReasonMissingField, "authority"},
		{"id number", `{"id":1,"uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonInvalidField, "id"},
		{"id empty", `{"id":"","uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonInvalidField, "id"},
		{"id too long", `{"id":"` + strings.Repeat("x", 129) + `","uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonInvalidField, "id"},
		{"id non-ascii", `{"id":"编号","uscc":"` + huawei + `","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"a"}`, ReasonInvalidField, "id"},
		{"bad uscc check", strings.Replace(line("deregistered", ""), huawei, "91110000600037341N", 1), ReasonInvalidUSCC, "uscc"},
		{"bad uscc length", strings.Replace(line("deregistered", ""), huawei, "9111", 1), ReasonInvalidUSCC, "uscc"},
		{"uscc not string", strings.Replace(line("deregistered", ""), `"`+huawei+`"`, "914403001922038216", 1), ReasonInvalidUSCC, "uscc"},
		{"unknown type", line("merged", `{}`), ReasonUnknownType, "type"},
		{"bad instant", strings.Replace(line("deregistered", ""), "2026-03-01T08:00:00+08:00", "2026-03-01 08:00", 1), ReasonInvalidField, "occurred_at"},
		{"instant no zone", strings.Replace(line("deregistered", ""), "2026-03-01T08:00:00+08:00", "2026-03-01T08:00:00", 1), ReasonInvalidField, "occurred_at"},
		{"duplicate member", `{"id":"a","id":"b"}`, ReasonDuplicateKey, "id"},
		{"unknown member", strings.Replace(line("deregistered", ""), `"id"`, `"source":"x","id"`, 1), ReasonUnknownField, "source"},
		{"attrs missing", line("penalty", ""), ReasonInvalidAttrs, "attrs"},
		{"attrs array", line("penalty", `[]`), ReasonInvalidAttrs, "attrs"},
		{"severity unknown", line("penalty", `{"severity":"huge","decision_no":"x"}`), ReasonInvalidAttrs, "attrs.severity"},
		{"severity missing", line("penalty", `{"decision_no":"x"}`), ReasonInvalidAttrs, "attrs.severity"},
		{"amount float", line("penalty", `{"severity":"minor","decision_no":"x","amount_yuan":1.5}`), ReasonInvalidAttrs, "attrs.amount_yuan"},
		{"amount string", line("penalty", `{"severity":"minor","decision_no":"x","amount_yuan":"5"}`), ReasonInvalidAttrs, "attrs.amount_yuan"},
		{"region short", line("registered", `{"name":"n","region":"4403","registered_on":"2020-01-01"}`), ReasonInvalidAttrs, "attrs.region"},
		{"date bad", line("registered", `{"name":"n","region":"440300","registered_on":"2020-13-01"}`), ReasonInvalidAttrs, "attrs.registered_on"},
		{"on_time string", line("annual_report", `{"year":2025,"on_time":"yes"}`), ReasonInvalidAttrs, "attrs.on_time"},
		{"ref number", line("repair", `{"ref":5,"decided_on":"2026-01-01"}`), ReasonInvalidAttrs, "attrs.ref"},
		{"attr duplicate", line("honor", `{"title":"t","title":"u","level":"national"}`), ReasonInvalidAttrs, "attrs.title"},
		{"name empty", line("registered", strings.Replace(reg, `"n"`, `""`, 1)), ReasonInvalidAttrs, "attrs.name"},
	}
	var d Decoder
	var ev Event
	for _, tt := range tests {
		err := d.Decode([]byte(tt.in), &ev)
		var re *RejectError
		if !errors.As(err, &re) {
			t.Errorf("%s: err %v, want reason %s", tt.name, err, tt.reason)
			continue
		}
		if re.Reason != tt.reason || re.Field != tt.field {
			t.Errorf("%s: got %s/%s (%s), want %s/%s", tt.name, re.Reason, re.Field, re.Detail, tt.reason, tt.field)
		}
		if re.Detail == "" {
			t.Errorf("%s: no detail", tt.name)
		}
	}
}

func TestDecodeExceptionsAndLowercase(t *testing.T) {
	x, _ := uscc.NewExceptions(uscc.PilotExceptions...)
	d := Decoder{Exceptions: x}
	var ev Event
	in := strings.Replace(line("deregistered", ""), huawei, "91350100M0001TGQXM", 1)
	if err := d.Decode([]byte(in), &ev); err != nil || !ev.Exception {
		t.Fatalf("pilot exception: %v %v", err, ev.Exception)
	}
	in = strings.Replace(line("deregistered", ""), huawei, "91310115ma1k3btp2b", 1)
	if err := d.Decode([]byte(in), &ev); err != nil || ev.USCC.String() != "91310115MA1K3BTP2B" {
		t.Fatalf("lowercase: %v %s", err, ev.USCC)
	}
}

func TestCheckTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	ev := &Event{OccurredAt: now.Add(24 * time.Hour)}
	if err := CheckTime(ev, now); err != nil {
		t.Errorf("exactly 24h ahead rejected: %v", err)
	}
	ev.OccurredAt = now.Add(24*time.Hour + time.Second)
	var re *RejectError
	if err := CheckTime(ev, now); !errors.As(err, &re) || re.Reason != ReasonFuture {
		t.Errorf("25h ahead: %v", err)
	}
}

// FuzzDecodeEvent: the decoder never panics, and whatever it accepts is a
// JSON object that encoding/json accepts too, with the same id.
func FuzzDecode(f *testing.F) {
	for _, typ := range Types() {
		f.Add([]byte(line(typ.String(), `{"ref":"x","severity":"minor","decision_no":"d","name":"n","region":"370102","registered_on":"2020-01-01"}`)))
	}
	f.Add([]byte(`{"id":"\ud83d\ude00"}`))
	f.Add([]byte(`{"attrs":{"a":[1,{"b":null}]}}`))
	x, _ := uscc.NewExceptions(uscc.PilotExceptions...)
	d := Decoder{Exceptions: x}
	bd := Decoder{Exceptions: x, Borrow: true}
	var reused Event
	f.Fuzz(func(t *testing.T, in []byte) {
		var ev Event
		err := d.Decode(in, &ev)
		// Borrow mode decodes the same, and a later copying decode into
		// the same Event never writes into the borrowed line.
		keep := append([]byte(nil), in...)
		var bev Event
		berr := bd.Decode(keep, &bev)
		if (err == nil) != (berr == nil) {
			t.Fatalf("borrow mode disagrees: %v vs %v", err, berr)
		}
		snapshot := append([]byte(nil), keep...)
		_ = d.Decode([]byte(`{"id":"Z","uscc":"914403001922038216","type":"honor","occurred_at":"2026-01-01T00:00:00Z","authority":"a","attrs":{"title":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","level":"national"}}`), &bev)
		if string(keep) != string(snapshot) {
			t.Fatal("a copying decode wrote into a borrowed line")
		}
		_ = bd.Decode(keep, &reused)
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) || re.Reason == "" {
				t.Fatalf("error is not a RejectError: %v", err)
			}
			return
		}
		var m map[string]any
		if jerr := json.Unmarshal(in, &m); jerr != nil {
			t.Fatalf("accepted input encoding/json rejects: %v", jerr)
		}
		if m["id"] != ev.ID {
			t.Fatalf("id %q vs %q", m["id"], ev.ID)
		}
		var bev2 Event
		_ = bd.Decode(keep, &bev2)
		bev2.ownsRaw, ev.ownsRaw = false, false
		if !reflect.DeepEqual(bev2, ev) && !(len(bev2.RawAttrs) == 0 && len(ev.RawAttrs) == 0) {
			t.Fatalf("borrow mode decoded differently:\n%+v\n%+v", bev2, ev)
		}
		if _, err := uscc.Parse(ev.USCC.String()); err != nil && !ev.Exception {
			t.Fatalf("accepted invalid uscc %s", ev.USCC)
		}
	})
}

func FuzzParseUSCC(f *testing.F) {
	for _, s := range []string{huawei, "91350100M000100Y4Z", "91310115ma1k3btp2b", "", "9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := uscc.Parse(s)
		if err != nil {
			var ue *uscc.Error
			if !errors.As(err, &ue) {
				t.Fatalf("not a USCCError: %v", err)
			}
			_ = ue.Error()
			return
		}
		if !strings.EqualFold(c.String(), s) {
			t.Fatalf("%q parsed to %s", s, c)
		}
		if uscc.CheckCharacter(c[:17]) != c[17] || uscc.OrgCheckCharacter(c[8:16]) != c[16] {
			t.Fatalf("accepted %s with bad check", c)
		}
		if c.Pack().Unpack() != c {
			t.Fatalf("pack round trip %s", c)
		}
	})
}
