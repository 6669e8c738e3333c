package sweep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Log is a results file open for appending, as a resumed shard uses it.
type Log struct {
	f *os.File
	// Path is the file's path.
	Path string
}

// ErrDamaged is wrapped by the error of [OpenLog] for a file with a bad
// line before its last: it is not a file of records as a sweep writes
// them, and appending to it would bury the damage.
var ErrDamaged = errors.New("damaged results file")

// OpenLog opens the results file at path for appending, creating it (and
// its directory) if it does not exist, and returns what it holds. An incomplete last line (a
// run stopped in the middle of writing it) is cut off, so that the next
// record starts a line of its own: the File's Torn says which line that
// was. A bad line before the end is refused: the error is the first
// [*ParseError], wrapped with [ErrDamaged] and the count of bad lines.
func OpenLog(path string) (*Log, *File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	got, err := Read(f, path)
	if err == nil && len(got.Damaged) > 0 {
		err = fmt.Errorf("%w (%w: %s; move the file away, or remove the bad lines, and resume again)", got.Damaged[0], ErrDamaged, plural(len(got.Damaged), "bad line"))
	}
	if err == nil && got.Torn > 0 {
		if err = f.Truncate(got.End); err == nil {
			err = f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("%s: cut off the incomplete line %d: %w", path, got.Torn, err)
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return &Log{f: f, Path: path}, got, nil
}

// Append writes records as whole lines, in one write, and syncs the file:
// once it returns, they are on disk.
func (l *Log) Append(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	var b []byte
	for _, r := range recs {
		b = r.AppendLine(b)
	}
	if _, err := l.f.Write(b); err != nil {
		return err
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
