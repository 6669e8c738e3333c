package sweep

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Trace is one trace file of a sweep.
type Trace struct {
	// Name names the trace in records and in the partition: the path as
	// given (cleaned), or as the manifest writes it, relative to the
	// manifest.
	Name string
	// Path is where the file is read.
	Path string
	// Size is the file's size in bytes, the partition's measure of its
	// work.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the file's bytes; empty until
	// [Hash] computes it.
	SHA256 string
}

// ErrNoMatch is wrapped by the error of [Resolve] for a pattern that
// matches no file.
var ErrNoMatch = errors.New("no file matches")

// ErrNotRegular is wrapped by the error of [Resolve] for a trace that is
// not a regular file (a pipe, a directory): a sweep reads each trace once
// to hash it and again to replay it.
var ErrNotRegular = errors.New("not a regular file (a sweep reads each trace twice: to hash it, then to replay it)")

// Resolve returns the traces that args and the manifest name, sorted by
// name, each name once. Each of args is a path or a glob pattern
// ([filepath.Match]: *, ?, [...]); a pattern must match at least one file.
// manifest, if not "", is a file that lists more, one path or pattern a
// line, relative to the manifest's directory; blank lines and lines
// starting with # are skipped.
//
// Errors: a bad manifest line is a [*ParseError]; a pattern that matches
// nothing wraps [ErrNoMatch]; a trace that is not a regular file wraps
// [ErrNotRegular]; a file that cannot be read gives its *fs.PathError.
func Resolve(args []string, manifest string) ([]Trace, error) {
	var out []Trace
	for _, a := range args {
		ts, err := expand(a, "", a)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if manifest != "" {
		ts, err := readManifest(manifest)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	slices.SortStableFunc(out, func(a, b Trace) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b Trace) bool { return a.Name == b.Name }), nil
}

// readManifest reads the traces a manifest lists.
func readManifest(path string) ([]Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir := filepath.Dir(path)
	var out []Trace
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ts, err := expand(line, dir, line)
		if err != nil {
			return nil, &ParseError{File: path, Line: n, Err: err}
		}
		out = append(out, ts...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// expand returns the traces that pattern names; a relative pattern is
// looked for under dir ("" for the working directory) and named as
// written. what names pattern in errors.
func expand(pattern, dir, what string) ([]Trace, error) {
	full := pattern
	if dir != "" && !filepath.IsAbs(pattern) {
		full = filepath.Join(dir, pattern)
	}
	names := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		matches, err := filepath.Glob(full)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", what, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%w %q", ErrNoMatch, what)
		}
		names = names[:0]
		for _, m := range matches {
			if dir != "" && !filepath.IsAbs(pattern) {
				rel, err := filepath.Rel(dir, m)
				if err != nil {
					return nil, err
				}
				m = rel
			}
			names = append(names, m)
		}
	}
	out := make([]Trace, 0, len(names))
	for _, name := range names {
		path := name
		if dir != "" && !filepath.IsAbs(name) {
			path = filepath.Join(dir, name)
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
		}
		out = append(out, Trace{Name: filepath.ToSlash(filepath.Clean(name)), Path: path, Size: st.Size()})
	}
	return out, nil
}

// Hash computes the SHA-256 of each trace that has none yet. It stops with
// ctx's error once ctx is done, checked every MiB.
func Hash(ctx context.Context, ts []*Trace) error {
	for _, t := range ts {
		if t.SHA256 != "" {
			continue
		}
		sum, err := hashFile(ctx, t.Path)
		if err != nil {
			return err
		}
		t.SHA256 = sum
	}
	return nil
}

func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
