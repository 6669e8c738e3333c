package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// outputFlags are the output flags shared by the commands that print rows
// of results: --output and --plot.
type outputFlags struct {
	output string
	plot   string
	plotFlags
}

// addOutputFlags declares --output (with the formats the command writes)
// and, if what names what is drawn, --plot.
func addOutputFlags(cmd *cobra.Command, f *outputFlags, formats []string, plotWhat string) {
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "table", strings.Join(formats[:len(formats)-1], ", ")+" or "+formats[len(formats)-1]+" (json: JSON Lines, one object per row)")
	if plotWhat != "" {
		fl.StringVar(&f.plot, "plot", "", "also draw "+plotWhat+" to `FILE` (.svg or .png)")
		addPlotFlags(cmd, &f.plotFlags)
	}
	cmd.Annotations = map[string]string{"output-formats": strings.Join(formats, ",")}
}

// check validates the output flags.
func (f outputFlags) check(cmd *cobra.Command) error {
	return checkOutput(cmd, f.output, strings.Split(cmd.Annotations["output-formats"], ","), f.plot)
}

// outputs is a set of output formats.
type outputs uint8

const (
	inTable outputs = 1 << iota
	inJSON
	inCSV
	inAll = inTable | inJSON | inCSV
)

// column is one field of a result table.
type column struct {
	// head is its heading in the table; key its name in JSON and CSV.
	head, key string
	// in says which formats carry it.
	in outputs
	// cell formats a value for the table (nil: fmt's %v); csvCell for CSV
	// (nil: the table's).
	cell, csvCell func(v any) string
	// optional columns are left out of every format when no row has a
	// value for them.
	optional bool
}

// table is rows of values, one per column, written as an aligned table,
// JSON Lines or CSV: the output of every command that prints results. A nil
// value is left out of a JSON object, empty in CSV and "-" in the table.
type table struct {
	cols []column
	rows [][]any
}

func (t *table) add(values ...any) {
	if len(values) != len(t.cols) {
		panic(fmt.Sprintf("table row of %d values for %d columns", len(values), len(t.cols)))
	}
	t.rows = append(t.rows, values)
}

// live returns the indexes of the columns to write in format.
func (t *table) live(format outputs) []int {
	var idx []int
	for i, c := range t.cols {
		if c.in&format == 0 {
			continue
		}
		if c.optional && !slices.ContainsFunc(t.rows, func(r []any) bool { return r[i] != nil }) {
			continue
		}
		idx = append(idx, i)
	}
	return idx
}

func (t *table) write(w io.Writer, format string) error {
	switch format {
	case "json":
		return t.writeJSON(w)
	case "csv":
		return t.writeCSV(w)
	}
	return t.writeTable(w)
}

func (t *table) writeJSON(w io.Writer) error {
	idx := t.live(inJSON)
	var b []byte
	for _, r := range t.rows {
		b = append(b[:0], '{')
		first := true
		for _, i := range idx {
			if r[i] == nil {
				continue
			}
			v, err := json.Marshal(r[i])
			if err != nil {
				return err
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = strconv.AppendQuote(b, t.cols[i].key)
			b = append(b, ':')
			b = append(b, v...)
		}
		b = append(b, '}', '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) writeCSV(w io.Writer) error {
	idx := t.live(inCSV)
	cw := csv.NewWriter(w)
	rec := make([]string, len(idx))
	for j, i := range idx {
		rec[j] = t.cols[i].key
	}
	cw.Write(rec)
	for _, r := range t.rows {
		for j, i := range idx {
			c := t.cols[i]
			switch {
			case r[i] == nil:
				rec[j] = ""
			case c.csvCell != nil:
				rec[j] = c.csvCell(r[i])
			case c.cell != nil:
				rec[j] = c.cell(r[i])
			default:
				rec[j] = plainCell(r[i])
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func (t *table) writeTable(w io.Writer) error {
	idx := t.live(inTable)
	cells := make([][]string, 0, len(t.rows)+1)
	head := make([]string, len(idx))
	for j, i := range idx {
		head[j] = t.cols[i].head
	}
	cells = append(cells, head)
	for _, r := range t.rows {
		line := make([]string, len(idx))
		for j, i := range idx {
			switch c := t.cols[i]; {
			case r[i] == nil:
				line[j] = "-"
			case c.cell != nil:
				line[j] = c.cell(r[i])
			default:
				line[j] = plainCell(r[i])
			}
		}
		cells = append(cells, line)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, line := range cells {
		fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
	}
	return tw.Flush()
}

// writeJSONLines writes each row as one JSON object a line: -o json of
// the commands whose rows are structs of their own.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// plainCell formats a value the way CSV and the table show it by default.
func plainCell(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', 6, 64)
	case *uint64:
		return strconv.FormatUint(*x, 10)
	}
	return fmt.Sprint(v)
}

// percent shows a ratio as a percentage with two decimals.
func percent(v any) string { return strconv.FormatFloat(100*v.(float64), 'f', 2, 64) }

func u(v uint64) string { return strconv.FormatUint(v, 10) }
