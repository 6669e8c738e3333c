package probe

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// field is one field of a tracepoint record, as tracefs' format file
// describes it.
type field struct {
	name   string
	offset int
	size   int
	signed bool
}

// layout is where the probe finds what it needs in a page_fault_user
// record.
type layout struct {
	address, ip, errorCode int
}

// errLayout is matched when the tracepoint's record is not laid out as
// the probe expects: another kernel, where guessing would count garbage.
var errLayout = errors.New("unexpected page_fault_user record layout")

// wantLayout is the record of exceptions:page_fault_user on every x86-64
// kernel since 3.13: an 8-byte common header, then address, ip and
// error_code as unsigned longs.
var wantLayout = layout{address: 8, ip: 16, errorCode: 24}

// parseFormat reads the fields of a tracefs format file.
func parseFormat(text string) ([]field, error) {
	var fields []field
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "field:") {
			continue
		}
		var f field
		var decl string
		seen := 0
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
			if !ok {
				continue
			}
			var err error
			switch k {
			case "field":
				decl = v
				seen |= 1
			case "offset":
				f.offset, err = strconv.Atoi(v)
				seen |= 2
			case "size":
				f.size, err = strconv.Atoi(v)
				seen |= 4
			case "signed":
				f.signed = v == "1"
			}
			if err != nil {
				return nil, fmt.Errorf("format line %q: %v", line, err)
			}
		}
		if seen != 7 {
			return nil, fmt.Errorf("format line %q: want field, offset and size", line)
		}
		words := strings.Fields(decl)
		if len(words) < 2 {
			return nil, fmt.Errorf("format line %q: no field name", line)
		}
		name := words[len(words)-1]
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i]
		}
		f.name = name
		fields = append(fields, f)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return fields, nil
}

// pageFaultLayout finds address, ip and error_code in a page_fault_user
// format file and checks they are unsigned 8-byte fields after the common
// header, aligned, and distinct.
func pageFaultLayout(text string) (layout, error) {
	l, err := findLayout(text)
	if err != nil {
		return layout{}, fmt.Errorf("%w: %v", errLayout, err)
	}
	return l, nil
}

func findLayout(text string) (layout, error) {
	fields, err := parseFormat(text)
	if err != nil {
		return layout{}, err
	}
	offs := map[string]int{}
	for _, f := range fields {
		switch f.name {
		case "address", "ip", "error_code":
		default:
			continue
		}
		if f.size != 8 || f.signed || f.offset < 8 || f.offset%8 != 0 {
			return layout{}, fmt.Errorf("field %s: offset %d size %d signed %v, want an unsigned 8-byte field after the common header", f.name, f.offset, f.size, f.signed)
		}
		offs[f.name] = f.offset
	}
	for _, n := range []string{"address", "ip", "error_code"} {
		if _, ok := offs[n]; !ok {
			return layout{}, fmt.Errorf("no field %s", n)
		}
	}
	l := layout{address: offs["address"], ip: offs["ip"], errorCode: offs["error_code"]}
	if l.address == l.ip || l.address == l.errorCode || l.ip == l.errorCode {
		return layout{}, fmt.Errorf("fields overlap: %+v", l)
	}
	return l, nil
}
