package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "14efd89abc"}, {Key: "vcs.time", Value: "2025-12-01T21:56:00Z"}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"a checkout, with git", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"vmsim (devel), revision 14efd89abc of 2025-12-01T21:56:00Z, built with go1.26.8"},
		{"uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: append(vcs, debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			"vmsim (devel), revision 14efd89abc of 2025-12-01T21:56:00Z, with uncommitted changes"},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"vmsim v1.2.3, unknown revision (built without version control information, as with -buildvcs=false), built with go1.26.8"},
		{"-buildvcs=false, as CI builds", &debug.BuildInfo{Main: debug.Module{}},
			"vmsim (devel), unknown revision (built without version control information, as with -buildvcs=false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, formatVersion(tt.bi, true)) })
	}
	assert.Contains(t, formatVersion(nil, false), "unknown version")
}

func TestVersionFlag(t *testing.T) {
	out, errOut, code := vmsim(t, "--version")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "vmsim "), out)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line")
	assert.Contains(t, out, "revision")
	assert.Equal(t, version()+"\n", out)
}
