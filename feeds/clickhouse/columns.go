package clickhouse

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Each table is declared once, in tables.go, as a tableDef: its engine and
// keys and an ordered list of typed columns. Everything else is derived
// from that list: the CREATE TABLE statement of migration 1, the INSERT
// column list and the column slices appended to it, and the spool encoding
// (the columns' spool values in list order, batch.go).
//
// A column reaches its row field through a typed accessor (a func returning
// a pointer to the field), so nothing here uses reflection. Add* does not
// touch columns at all: it appends the row struct to its batch; columns are
// used once per batch, to insert, spool or replay it.

// colDef is one ClickHouse column of the DDL.
type colDef struct{ name, typ string }

// column is one field of row type R: its ClickHouse column(s), its INSERT
// column slice(s) and its spool value.
type column[R any] interface {
	// defs returns its ClickHouse columns (a time is two: seconds and ms).
	defs() []colDef
	// appendColumns appends the INSERT column slice(s) of rows to dst.
	appendColumns(dst []any, rows []R) []any
	// encode appends r's spool value to p; decode reads it into r (both do
	// nothing for a column derived from others).
	encode(p []byte, r *R) []byte
	decode(d *dec, r *R)
}

// gather returns the field of every row, an INSERT column slice.
func gather[R, V any](rows []R, field func(*R) *V) []V {
	out := make([]V, len(rows))
	for i := range rows {
		out[i] = *field(&rows[i])
	}
	return out
}

// strCol is a String column.
type strCol[R any] struct {
	name  string
	field func(*R) *string
}

func (c strCol[R]) defs() []colDef { return []colDef{{c.name, "String"}} }
func (c strCol[R]) appendColumns(dst []any, rows []R) []any {
	return append(dst, gather(rows, c.field))
}
func (c strCol[R]) encode(p []byte, r *R) []byte { return appendStr(p, *c.field(r)) }
func (c strCol[R]) decode(d *dec, r *R)          { *c.field(r) = d.str() }

// timeCol is a time: a DateTime('UTC') column of whole seconds and a UInt16
// column of milliseconds beside it; in the spool, varint Unix milliseconds.
type timeCol[R any] struct {
	name, msName string
	field        func(*R) *time.Time
}

func (c timeCol[R]) defs() []colDef {
	return []colDef{{c.name, "DateTime('UTC')"}, {c.msName, "UInt16"}}
}
func (c timeCol[R]) appendColumns(dst []any, rows []R) []any {
	sec, ms := make([]time.Time, len(rows)), make([]uint16, len(rows))
	for i := range rows {
		sec[i], ms[i] = splitTime(*c.field(&rows[i]))
	}
	return append(dst, sec, ms)
}
func (c timeCol[R]) encode(p []byte, r *R) []byte { return appendTime(p, *c.field(r)) }
func (c timeCol[R]) decode(d *dec, r *R)          { *c.field(r) = d.time() }

// u64Col is a UInt64 column of a uint64 field; in the spool, a uvarint.
type u64Col[R any] struct {
	name  string
	field func(*R) *uint64
}

func (c u64Col[R]) defs() []colDef { return []colDef{{c.name, "UInt64"}} }
func (c u64Col[R]) appendColumns(dst []any, rows []R) []any {
	return append(dst, gather(rows, c.field))
}
func (c u64Col[R]) encode(p []byte, r *R) []byte { return binary.AppendUvarint(p, *c.field(r)) }
func (c u64Col[R]) decode(d *dec, r *R)          { *c.field(r) = d.u64() }

// i32Col is an Int32 column of an int32 field; in the spool, a varint.
type i32Col[R any] struct {
	name  string
	field func(*R) *int32
}

func (c i32Col[R]) defs() []colDef { return []colDef{{c.name, "Int32"}} }
func (c i32Col[R]) appendColumns(dst []any, rows []R) []any {
	return append(dst, gather(rows, c.field))
}
func (c i32Col[R]) encode(p []byte, r *R) []byte { return binary.AppendVarint(p, int64(*c.field(r))) }
func (c i32Col[R]) decode(d *dec, r *R)          { *c.field(r) = d.int32() }

// countCol is an unsigned column (UInt32 or UInt64, after U) of an int field;
// a negative value is stored as 0. In the spool, the int as a varint
// (negative values included).
type countCol[R any, U uint32 | uint64] struct {
	name  string
	field func(*R) *int
}

func (c countCol[R, U]) defs() []colDef {
	typ := "UInt64"
	if ^U(0) == U(^uint32(0)) {
		typ = "UInt32"
	}
	return []colDef{{c.name, typ}}
}
func (c countCol[R, U]) appendColumns(dst []any, rows []R) []any {
	out := make([]U, len(rows))
	for i := range rows {
		out[i] = U(max(*c.field(&rows[i]), 0))
	}
	return append(dst, out)
}
func (c countCol[R, U]) encode(p []byte, r *R) []byte {
	return binary.AppendVarint(p, int64(*c.field(r)))
}
func (c countCol[R, U]) decode(d *dec, r *R) { *c.field(r) = d.int() }

// strsCol is an Array(String) column (a nil slice is inserted as []); in the
// spool, a uvarint count and the strings (a decoded empty list is nil).
type strsCol[R any] struct {
	name  string
	field func(*R) *[]string
}

func (c strsCol[R]) defs() []colDef { return []colDef{{c.name, "Array(String)"}} }
func (c strsCol[R]) appendColumns(dst []any, rows []R) []any {
	out := make([][]string, len(rows))
	for i := range rows {
		if out[i] = *c.field(&rows[i]); out[i] == nil {
			out[i] = []string{}
		}
	}
	return append(dst, out)
}
func (c strsCol[R]) encode(p []byte, r *R) []byte {
	v := *c.field(r)
	p = binary.AppendUvarint(p, uint64(len(v)))
	for _, s := range v {
		p = appendStr(p, s)
	}
	return p
}
func (c strsCol[R]) decode(d *dec, r *R) {
	k := d.u64()
	if k > uint64(len(d.s)-d.i) {
		d.fail(c.name + " count") // every string takes at least a byte
	}
	if d.err != nil || k == 0 {
		return
	}
	v := make([]string, k)
	for j := range v {
		v[j] = d.str()
	}
	*c.field(r) = v
}

// derivedCol is a UInt64 column computed from other fields; it is not
// spooled (decoding recomputes nothing: the value is derived at insert).
type derivedCol[R any] struct {
	name  string
	value func(*R) uint64
}

func (c derivedCol[R]) defs() []colDef { return []colDef{{c.name, "UInt64"}} }
func (c derivedCol[R]) appendColumns(dst []any, rows []R) []any {
	out := make([]uint64, len(rows))
	for i := range rows {
		out[i] = c.value(&rows[i])
	}
	return append(dst, out)
}
func (derivedCol[R]) encode(p []byte, _ *R) []byte { return p }
func (derivedCol[R]) decode(*dec, *R)              {}

// tableDef declares one table whose rows are R.
type tableDef[R any] struct {
	name string
	// engine, partitionBy and orderBy are the DDL's clauses.
	engine, partitionBy, orderBy string
	cols                         []column[R]
	// rows is the batch's slice of R.
	rows func(*batch) *[]R
}

// tableSpec is a tableDef without its row type, for code that handles a
// batch of any table.
type tableSpec interface {
	tableName() string
	// count is the number of b's rows.
	count(b *batch) int
	// createStatement is the CREATE TABLE statement, {db} for the database.
	createStatement() string
	// insertColumns names the INSERT's columns, in columns' order.
	insertColumns() string
	// columns returns b's INSERT column slices.
	columns(b *batch) []any
	// encodeRows appends b's rows' spool values; decodeRows reads n rows
	// into b.
	encodeRows(p []byte, b *batch) []byte
	decodeRows(d *dec, b *batch, n int)
}

func (t *tableDef[R]) tableName() string { return t.name }

func (t *tableDef[R]) count(b *batch) int { return len(*t.rows(b)) }

func (t *tableDef[R]) defs() []colDef {
	var out []colDef
	for _, c := range t.cols {
		out = append(out, c.defs()...)
	}
	return out
}

// createStatement lays the statement out as released migration 1 was
// written (columns aligned, tab-indented as in the Go source then), so the
// generated text is byte-identical to what existing databases ran.
func (t *tableDef[R]) createStatement() string {
	defs := t.defs()
	width := 0
	for _, d := range defs {
		width = max(width, len(d.name))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "CREATE TABLE IF NOT EXISTS {db}.%s (\n", t.name)
	for i, d := range defs {
		sep := ","
		if i == len(defs)-1 {
			sep = ""
		}
		fmt.Fprintf(&sb, "\t\t\t\t%-*s %s%s\n", width, d.name, d.typ, sep)
	}
	fmt.Fprintf(&sb, "\t\t\t) ENGINE = %s\n\t\t\tPARTITION BY %s\n\t\t\tORDER BY %s %s", t.engine, t.partitionBy, t.orderBy, tableSettings)
	return sb.String()
}

func (t *tableDef[R]) insertColumns() string {
	defs := t.defs()
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

func (t *tableDef[R]) columns(b *batch) []any {
	rows := *t.rows(b)
	out := make([]any, 0, len(t.cols)+4)
	for _, c := range t.cols {
		out = c.appendColumns(out, rows)
	}
	return out
}

func (t *tableDef[R]) encodeRows(p []byte, b *batch) []byte {
	rows := *t.rows(b)
	for i := range rows {
		for _, c := range t.cols {
			p = c.encode(p, &rows[i])
		}
	}
	return p
}

func (t *tableDef[R]) decodeRows(d *dec, b *batch, n int) {
	rows := make([]R, n)
	for i := range rows {
		for _, c := range t.cols {
			c.decode(d, &rows[i])
		}
		if d.err != nil {
			break
		}
	}
	*t.rows(b) = rows
}
