package exercise

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

// lines returns the output without the course's questions and the
// explanation, addresses replaced by ADDR, so that it can be compared with
// the C program's lines.
func lines(out string) []string {
	out, _, _ = strings.Cut(out, "\nThe course's questions")
	out, _, _ = strings.Cut(out, "\nWhy:")
	out = regexp.MustCompile(`0x[0-9a-f]+`).ReplaceAllString(out, "ADDR")
	return strings.Split(strings.TrimSpace(out), "\n")
}

func TestMprotect(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Mprotect(&out, nil))
	ps := arch.SystemPageSize()
	want := []string{
		"p = mmap(NULL, " + strconv.Itoa(int(ps)) + ", PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR",
		"write 'c' to p[0]",
		"  handler: received SIGSEGV at ADDR (write access)",
		"  handler: mprotect(p, " + strconv.Itoa(int(ps)) + ", PROT_READ|PROT_WRITE) = 0",
		"read p[0] = 'c'",
		"write 'd' to p[0]",
		"read p[0] = 'd'",
		"check: one fault: ok (1 caught)",
		"check: values read: ok (read 'c' then 'd')",
	}
	assert.Equal(t, want, lines(out.String()))
	assert.Contains(t, out.String(), "Why:")
}

func TestMprotectWriteOnly(t *testing.T) {
	var out bytes.Buffer
	err := Mprotect(&out, &MprotectOptions{Grant: arch.ProtWrite, MaxRetries: 4})
	require.NoError(t, err, out.String())
	if writeImpliesRead() {
		assert.Contains(t, out.String(), "check: one fault: ok (1 caught)")
		assert.Contains(t, out.String(), "cannot express write-only")
	} else {
		assert.Contains(t, out.String(), "fault not resolved")
	}
}

func TestMprotectUnresolvedIsBounded(t *testing.T) {
	// A handler that grants read (the write needs more) or nothing never
	// resolves the write fault.
	for _, grant := range []arch.Prot{arch.ProtRead, arch.ProtNone} {
		t.Run(grant.String(), func(t *testing.T) {
			var out bytes.Buffer
			err := Mprotect(&out, &MprotectOptions{Grant: grant, MaxRetries: 3})
			require.NoError(t, err, out.String())
			assert.Contains(t, out.String(), "the access still faults after 3 retries")
			assert.Contains(t, out.String(), "check: the unresolved fault is an error, not a hang: ok")
			assert.Equal(t, 3, strings.Count(out.String(), "handler: received"), "the handler runs MaxRetries times, then the fault is reported")
		})
	}
}

func TestRemap(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Remap(&out, nil))
	got := lines(out.String())
	assert.Equal(t, "base = ADDR (nothing is mapped there)", got[0])
	assert.Equal(t, "read base[0]", got[1])
	assert.Equal(t, "  handler: caught a fault at ADDR (read access): nothing mapped there", got[2])
	assert.Contains(t, got, "base[0] = A")
	assert.Contains(t, got, "check: one fault: ok (1 caught)")
	assert.Contains(t, got, "check: base[0] is 'A': ok (read 'A')")
}
