package main

import (
	"runtime/debug"
	"strings"
)

// version says what vmsim this is, from the build information the Go
// toolchain stamps into the binary: the module version ("(devel)" for a
// build of a checkout, a tag for go install vmsim@v1.2.3), the VCS
// revision, its time and whether the tree had changes, and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	return formatVersion(bi, ok)
}

// formatVersion is version for given build information: one line.
func formatVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "vmsim: no build information in this binary (unknown version, unknown revision)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	b.WriteString("vmsim " + v)
	if rev := settings["vcs.revision"]; rev != "" {
		b.WriteString(", revision " + rev)
		if t := settings["vcs.time"]; t != "" {
			b.WriteString(" of " + t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", with uncommitted changes")
		}
	} else {
		b.WriteString(", unknown revision (built without version control information, as with -buildvcs=false)")
	}
	if bi.GoVersion != "" {
		b.WriteString(", built with " + bi.GoVersion)
	}
	return b.String()
}
