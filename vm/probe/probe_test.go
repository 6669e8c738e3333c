package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm"
	"vmsim/vm/arch"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		code                 ErrorCode
		present, write, user bool
		want                 string
	}{
		{0x4, false, false, true, "0x4 (not-present read user)"},
		{0x6, false, true, true, "0x6 (not-present write user)"},
		{0x7, true, true, true, "0x7 (protection write user)"},
		{0x5, true, false, true, "0x5 (protection read user)"},
		{0x14, false, false, true, "0x14 (not-present read user fetch)"},
		{0x2, false, true, false, "0x2 (not-present write kernel)"},
		{0x26, false, true, true, "0x26 (not-present write user other bits 0x20)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.present, tt.code.Present())
			assert.Equal(t, tt.write, tt.code.Write())
			assert.Equal(t, tt.user, tt.code.User())
			assert.Equal(t, tt.want, tt.code.String())
		})
	}
}

func TestTally(t *testing.T) {
	var tl Tally
	tl.Add(0x4, 2)
	tl.Add(0x7, 1)
	tl.Add(0x6, 3)
	tl.Add(0x26, 1) // bits above NumCodes are dropped: counted as 0x6
	assert.Equal(t, uint64(7), tl.Faults)
	assert.Equal(t, uint64(6), tl.NotPresent)
	assert.Equal(t, uint64(1), tl.Protection)
	assert.Equal(t, uint64(2), tl.Reads)
	assert.Equal(t, uint64(5), tl.Writes)
	assert.Equal(t, uint64(4), tl.ByCode[6])
	assert.Equal(t, "0x4:2 0x6:4 0x7:1", tl.Codes())
	assert.Zero(t, tl.Kernel, "every code had CodeUser set")
	tl.Add(0x2, 2)
	assert.Equal(t, uint64(2), tl.Kernel, "a kernel-mode write")
}

func TestCountsLookups(t *testing.T) {
	c := Counts{
		Ranges: []RangeCounts{{Range: Range{Label: "program view"}}, {Range: Range{Label: "second view"}}},
		Pages:  []PageCounts{{Addr: 0x1000}, {Addr: 0x3000}, {Addr: 0x4000}},
	}
	c.Pages[1].Add(0x6, 2)
	r, ok := c.Range("second view")
	assert.True(t, ok)
	assert.Equal(t, "second view", r.Label)
	_, ok = c.Range("third view")
	assert.False(t, ok)
	assert.Equal(t, uint64(2), c.Page(0x3000).Faults)
	assert.Equal(t, Tally{}, c.Page(0x2000), "a page that never faulted")
	assert.Equal(t, Tally{}, c.Page(0x5000))
}

func TestCheckRanges(t *testing.T) {
	r := func(s, e arch.Addr) Range { return Range{Range: arch.Range{Start: s, End: e}} }
	many := make([]Range, MaxRanges+1)
	for i := range many {
		many[i] = r(arch.Addr(i+1)<<12, arch.Addr(i+2)<<12)
	}
	tests := []struct {
		name string
		rs   []Range
		ok   bool
	}{
		{"none", nil, true},
		{"two apart", []Range{r(0x1000, 0x2000), r(0x2000, 0x3000)}, true},
		{"the whole address space", []Range{r(0, ^arch.Addr(0))}, true},
		{"empty", []Range{r(0x1000, 0x1000)}, false},
		{"ill-formed", []Range{r(0x2000, 0x1000)}, false},
		{"overlapping", []Range{r(0x1000, 0x3000), r(0x2000, 0x4000)}, false},
		{"too many", many, false},
		{"as many as allowed", many[:MaxRanges], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRanges(tt.rs)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrBadRange)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{
		Op:      "load eBPF program",
		Missing: "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), which this process lacks",
		Kind:    ErrPermission,
		Hint:    "run it as root",
	}
	assert.Equal(t, "kernel probe: load eBPF program: permission denied: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), which this process lacks; run it as root", e.Error())
	assert.ErrorIs(t, e, ErrPermission)
	assert.NotErrorIs(t, e, ErrNotSupported)

	cause := errors.New("verifier says no\nline 2 of the log\nline 3")
	e = &Error{Op: "load eBPF program", Err: cause}
	assert.Equal(t, "kernel probe: load eBPF program: verifier says no", e.Error(), "one line")
	assert.ErrorIs(t, e, cause)

	wrapped := fmt.Errorf("replay: %w", &Error{Op: "attach", Missing: "the tracepoint", Kind: ErrNotSupported})
	var pe *Error
	require.ErrorAs(t, wrapped, &pe)
	assert.Equal(t, "the tracepoint", pe.Missing)
	assert.ErrorIs(t, wrapped, ErrNotSupported)
}

func TestAttachString(t *testing.T) {
	assert.Equal(t, "auto", AttachAuto.String())
	assert.Equal(t, "tracepoint", AttachTracepoint.String())
	assert.Equal(t, "raw_tracepoint", AttachRawTracepoint.String())
	assert.Equal(t, "Attach(9)", Attach(9).String())
}

// heapBytes lives on the heap, where it does not move (a stack slice
// would move when the stack grows).
var heapBytes = make([]byte, 100)

func TestRangeOf(t *testing.T) {
	b := heapBytes
	r := RangeOf(b[10:30])
	assert.Equal(t, uint64(20), r.Length())
	assert.Equal(t, RangeOf(b).Start+10, r.Start)
	assert.True(t, RangeOf(nil).Empty())
}

// A variant of the record seen in some trees: a bool user_mode before
// error_code.
const formatWithUserMode = `name: page_fault_user
ID: 120
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long address;	offset:8;	size:8;	signed:0;
	field:unsigned long ip;	offset:16;	size:8;	signed:0;
	field:bool user_mode;	offset:24;	size:1;	signed:0;
	field:unsigned long error_code;	offset:32;	size:8;	signed:0;
`

func TestPageFaultLayout(t *testing.T) {
	real, err := os.ReadFile("testdata/page_fault_user.format")
	require.NoError(t, err)
	tests := []struct {
		name string
		text string
		want layout
		ok   bool
	}{
		{"x86-64 record", string(real), wantLayout, true},
		{"record with user_mode is read, not assumed", formatWithUserMode, layout{address: 8, ip: 16, errorCode: 32}, true},
		{"error_code missing", strings.ReplaceAll(string(real), "error_code", "errcode"), layout{}, false},
		{"signed address", strings.Replace(string(real), "offset:8;\tsize:8;\tsigned:0;", "offset:8;\tsize:8;\tsigned:1;", 1), layout{}, false},
		{"32-bit fields", strings.ReplaceAll(string(real), "size:8", "size:4"), layout{}, false},
		{"field inside the header", strings.Replace(string(real), "offset:8;", "offset:0;", 1), layout{}, false},
		{"no offset", strings.Replace(string(real), "offset:24;", "", 1), layout{}, false},
		{"bad number", strings.Replace(string(real), "offset:24;", "offset:x;", 1), layout{}, false},
		{"empty", "", layout{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pageFaultLayout(tt.text)
			if !tt.ok {
				assert.ErrorIs(t, err, errLayout)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestSentinelsShared: one sentinel each, defined once in vm/arch (or
// io/fs) and re-exported, so errors.Is matches whichever package returned
// the error.
func TestSentinelsShared(t *testing.T) {
	assert.True(t, ErrNotSupported == arch.ErrNotSupported && vm.ErrNotSupported == arch.ErrNotSupported)
	assert.True(t, ErrClosed == arch.ErrClosed && vm.ErrClosed == arch.ErrClosed)
	assert.True(t, ErrPermission == fs.ErrPermission)
}
