// Package docs holds what of vmsim's documentation a program needs: the
// reference C programs of the mmap exercises (docs/c: mprotect.c, remap.c,
// shared-file.c, shared-anon.c, cp.c), the course's programs completed
// where the slides leave things out. Each passes every check of vmsim check
// and prints what vmsim exercise NAME prints; the tests of
// vm/exercise/check hold them to both. They are embedded so that vmsim
// check --reference grades them from any directory.
package docs

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed c/*.c
var programs embed.FS

// Reference returns the reference C program of the exercise name.
func Reference(name string) ([]byte, error) {
	b, err := programs.ReadFile("c/" + name + ".c")
	if err != nil {
		return nil, fmt.Errorf("no reference program for %q: %w", name, fs.ErrNotExist)
	}
	return b, nil
}
