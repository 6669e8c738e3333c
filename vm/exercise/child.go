package exercise

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// RunChild is the second process of the two-process exercises. args are the
// arguments the exercise gave its [Spawner]; descriptors 3 and 4 are the
// pipes it passed (wait on 3, report on 4), and for shared-anon descriptor 5
// is the memfd. The child's lines go to the parent through descriptor 4; an
// error is reported there too, and returned.
func RunChild(args []string) error {
	if len(args) == 0 {
		return errors.New("exercise child: no exercise named")
	}
	fs := flag.NewFlagSet("exercise child "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("file", "", "the file to map (shared-file)")
	private := fs.Bool("private", false, "map MAP_PRIVATE")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("exercise child %s: %w", args[0], err)
	}
	wait, rep := childLink()
	defer rep.Close()
	var err error
	switch args[0] {
	case "shared-file":
		var f *os.File
		if f, err = os.OpenFile(*file, os.O_RDWR, 0); err == nil {
			err = runSecond(rep, f, *private, wait)
			f.Close()
		}
	case "shared-anon":
		f := os.NewFile(childMemFD, "memfd:"+memfdName)
		err = runSecond(rep, f, *private, wait)
		f.Close()
	default:
		err = fmt.Errorf("unknown exercise %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(rep, "error: %v\n", err)
		return fmt.Errorf("exercise child %s: %w", args[0], err)
	}
	return nil
}
