package main

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"vmsim/pager"
)

// series is one line of a plot.
type series struct {
	name string
	xs   []float64
	ys   []float64
}

// plotOptions choose a plot's axes. A nil field means automatic: a log
// axis where the data calls for one (see autoLogX and autoLogY).
type plotOptions struct {
	logX, logY *bool
	// yMax, if not 0, fixes the top of a linear y axis (100 for a
	// percentage).
	yMax float64
}

// plotFlags are the axis flags of a command that draws plots.
type plotFlags struct {
	logX, logY bool
}

// addPlotFlags declares --log-x and --log-y on a command with --plot.
func addPlotFlags(cmd *cobra.Command, f *plotFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&f.logX, "log-x", false, "--plot: a logarithmic x axis (default: when the curve is a spike at the left; --log-x=false for linear)")
	fl.BoolVar(&f.logY, "log-y", false, "--plot: a logarithmic y axis (default: when most values are small beside the largest; --log-y=false for linear)")
}

// options returns the axis choices the flags make, automatic for those not
// given.
func (f plotFlags) options(cmd *cobra.Command) plotOptions {
	var o plotOptions
	if cmd.Flags().Changed("log-x") {
		o.logX = &f.logX
	}
	if cmd.Flags().Changed("log-y") {
		o.logY = &f.logY
	}
	return o
}

// plotFormat returns the image format of a plot path from its extension,
// and checks that its directory exists, so that a long run does not end in
// an error it could have given at once.
func plotFormat(path string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return "", fmt.Errorf("%s: want a .svg or .png file", path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s: no directory %s to write it in", path, filepath.Dir(path))
	}
	return ext[1:], nil
}

// Line styles: the Okabe-Ito palette, made to be told apart with every
// common colour-vision deficiency (Okabe and Ito, "Color Universal Design",
// 2008; yellow left out, too faint on white), seven colours, then again
// dashed and dotted; each style has its own marker too.
var (
	plotColors = []color.Color{
		color.RGBA{0x00, 0x72, 0xb2, 0xff}, // blue
		color.RGBA{0xd5, 0x5e, 0x00, 0xff}, // vermillion
		color.RGBA{0x00, 0x9e, 0x73, 0xff}, // bluish green
		color.RGBA{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
		color.RGBA{0xe6, 0x9f, 0x00, 0xff}, // orange
		color.RGBA{0x56, 0xb4, 0xe9, 0xff}, // sky blue
		color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
	}
	plotDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)}}
)

// lineStyle returns style i's colour, dashes and marker: distinct for the
// first 21.
func lineStyle(i int) (color.Color, []vg.Length, draw.GlyphDrawer) {
	n := len(plotColors)
	return plotColors[i%n], plotDashes[(i/n)%len(plotDashes)], plotutil.Shape(i%n + i/n)
}

// styleIndexes gives each line a style of its own: a policy's line gets
// that policy's style (its place among the policies), so that a policy
// looks the same in every plot; other lines, and a policy's second line
// (another trace), the next free ones.
func styleIndexes(lines []series) []int {
	policies := pager.Policies()
	taken := map[int]bool{}
	idx := make([]int, len(lines))
	for i, s := range lines {
		idx[i] = -1
		if j := slices.Index(policies, seriesPolicy(s.name)); j >= 0 && !taken[j] {
			idx[i], taken[j] = j, true
		}
	}
	next := 0
	for i := range idx {
		if idx[i] >= 0 {
			continue
		}
		for taken[next] {
			next++
		}
		idx[i], taken[next] = next, true
	}
	return idx
}

// seriesPolicy returns the policy a line's name is about: "lru",
// "trace: lru", "lru (real)" are lru's.
func seriesPolicy(name string) string {
	if i := strings.LastIndex(name, ": "); i >= 0 {
		name = name[i+2:]
	}
	name, _, _ = strings.Cut(name, " (")
	return strings.ToLower(name)
}

// shortPaths replaces each word of s that holds a path by its last
// element: a plot names its trace, not the directories it sits in.
func shortPaths(s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		if strings.Contains(w, string(filepath.Separator)) {
			words[i] = filepath.Base(w)
		}
	}
	return strings.Join(words, " ")
}

// writePlot draws lines and saves them to path (SVG or PNG, by extension),
// through a temporary file renamed into place, with automatic axes.
func writePlot(path, title, xlabel, ylabel string, lines []series) error {
	return writePlotWith(path, title, xlabel, ylabel, lines, plotOptions{})
}

// writePlotWith is writePlot with the axes chosen by o. Axes whose values
// are all whole numbers (frames, faults, pages) get whole-number ticks; a
// linear y axis starts at zero; the legend goes to the right of the data,
// outside it.
func writePlotWith(path, title, xlabel, ylabel string, lines []series, o plotOptions) error {
	format, err := plotFormat(path)
	if err != nil {
		return err
	}
	logX, logY := autoLogX(lines), autoLogY(lines)
	if o.logX != nil {
		logX = *o.logX
	}
	if o.logY != nil {
		logY = *o.logY
	}
	p := plot.New()
	p.Title.Text = shortPaths(title)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	setAxis(&p.X, logX, allIntegers(lines, true))
	setAxis(&p.Y, logY, allIntegers(lines, false))
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	named := 0
	styles := styleIndexes(lines)
	for i, s := range lines {
		pts := make(plotter.XYs, 0, len(s.xs))
		for j := range s.xs {
			if logX && s.xs[j] <= 0 || logY && s.ys[j] <= 0 {
				continue // not on a log axis
			}
			pts = append(pts, plotter.XY{X: s.xs[j], Y: s.ys[j]})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.name, err)
		}
		c, dashes, shape := lineStyle(styles[i])
		l.Color, l.Dashes, l.Width = c, dashes, vg.Points(1.5)
		p.Add(l)
		thumbs := []plot.Thumbnailer{l}
		if len(pts) <= 64 {
			sc, err := plotter.NewScatter(pts)
			if err == nil {
				sc.Color, sc.Shape, sc.Radius = c, shape, vg.Points(2.5)
				p.Add(sc)
				thumbs = append(thumbs, sc)
			}
		}
		if s.name != "" {
			legend.Add(shortPaths(s.name), thumbs...)
			named++
		}
	}
	if !logY {
		p.Y.Min = 0 // counts and ratios: an honest linear axis starts at zero
		if o.yMax > 0 {
			p.Y.Max = o.yMax
		}
	}
	p.BackgroundColor = color.White

	// The legend takes a column of its own at the right, so that it never
	// hides a line; a lone line needs none (the title names it).
	const w, h = 8 * vg.Inch, 5 * vg.Inch
	var lw vg.Length
	if named > 1 {
		lw = legend.Rectangle(draw.Canvas{}).Size().X + vg.Points(12)
	}
	cv, err := draw.NewFormattedCanvas(w+lw, h, format)
	if err != nil {
		return err
	}
	dc := draw.New(cv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	if named > 1 {
		top := dc.Max.Y - p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y - p.Title.Padding - vg.Points(4)
		legend.Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Max.X - lw + vg.Points(6), Y: dc.Min.Y},
			Max: vg.Point{X: dc.Max.X, Y: top},
		}})
	}
	return writeAtomic(path, func(f *os.File) error {
		_, err := cv.WriteTo(f)
		return err
	})
}

// setAxis makes an axis logarithmic or linear, with whole-number ticks if
// its values are whole numbers.
func setAxis(a *plot.Axis, log, integers bool) {
	switch {
	case log:
		a.Scale = plot.LogScale{}
		a.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick { return logTicks(min, max, integers) })
	case integers:
		a.Tick.Marker = plot.TickerFunc(intTicks)
	}
}

// allIntegers reports whether every x (or every y) of lines is a whole
// number.
func allIntegers(lines []series, x bool) bool {
	for _, s := range lines {
		vs := s.ys
		if x {
			vs = s.xs
		}
		for _, v := range vs {
			if v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}

// intTicks returns ticks at whole numbers: majors every 1, 2 or 5 times a
// power of ten (at least 1), about six of them, with minors between.
func intTicks(min, max float64) []plot.Tick {
	if max < min {
		min, max = max, min
	}
	step := niceStep((max - min) / 6)
	var ticks []plot.Tick
	minor := step / 5
	if minor != math.Trunc(minor) || minor < 1 {
		minor = step / 2
	}
	if minor != math.Trunc(minor) || minor < 1 {
		minor = step
	}
	unit := countUnit(math.Max(math.Abs(min), math.Abs(max)))
	for v := math.Ceil(min/minor) * minor; v <= max; v += minor {
		t := plot.Tick{Value: v}
		if math.Mod(v, step) == 0 {
			t.Label = countLabel(v, unit)
		}
		ticks = append(ticks, t)
	}
	if len(ticks) == 0 {
		v := math.Round(min)
		ticks = append(ticks, plot.Tick{Value: v, Label: countLabel(v, countUnit(v))})
	}
	return ticks
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten, at
// least 1, that is at least raw.
func niceStep(raw float64) float64 {
	if raw <= 1 {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(raw))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// logTicks returns majors at powers of ten, labelled, and minors at 2 to 9
// times them; integers says to label them as whole numbers.
func logTicks(min, max float64, integers bool) []plot.Tick {
	if min <= 0 || max <= 0 {
		return nil
	}
	lo, hi := math.Floor(math.Log10(min)), math.Ceil(math.Log10(max))
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		p := math.Pow10(int(e))
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				if integers {
					t.Label = countLabel(v, countUnit(v))
				} else {
					t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				}
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// countUnit returns the unit whole numbers up to largest are labelled in:
// 1 below 10,000, then thousands (k), millions (M), billions (G).
func countUnit(largest float64) float64 {
	switch {
	case largest >= 1e10:
		return 1e9
	case largest >= 1e7:
		return 1e6
	case largest >= 1e4:
		return 1e3
	}
	return 1
}

// countLabel writes a whole number in unit (of countUnit): 950, 2500,
// 25k, 1.5M; every label of an axis in the same unit.
func countLabel(v, unit float64) string {
	suffix := map[float64]string{1: "", 1e3: "k", 1e6: "M", 1e9: "G"}[unit]
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v/unit, 'g', 4, 64) + suffix
}

// autoLogX reports whether lines call for a logarithmic x axis: positive
// x values over two decades or more, and every line settled (within a
// tenth of its range of its last value) in the first twentieth of the x
// range, a spike at the left on a linear axis: the miss-ratio curve of a
// real trace, which falls steeply over the first few frames and then
// hardly moves over thousands.
func autoLogX(lines []series) bool {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, s := range lines {
		for _, x := range s.xs {
			xmin, xmax = min(xmin, x), max(xmax, x)
		}
	}
	if !(xmin > 0) || xmax/xmin < 100 {
		return false
	}
	spike := false
	for _, s := range lines {
		if len(s.xs) < 3 {
			continue
		}
		order := make([]int, len(s.xs))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s.xs[a], s.xs[b]) })
		ymin, ymax := slices.Min(s.ys), slices.Max(s.ys)
		if ymax == ymin {
			continue
		}
		end := s.ys[order[len(order)-1]]
		settled := s.xs[order[len(order)-1]]
		for k := len(order) - 1; k >= 0 && math.Abs(s.ys[order[k]]-end) <= 0.1*(ymax-ymin); k-- {
			settled = s.xs[order[k]]
		}
		if settled-xmin > 0.05*(xmax-xmin) {
			return false
		}
		spike = true
	}
	return spike
}

// autoLogY reports whether lines call for a logarithmic y axis: positive
// values over two decades or more, half of them below a tenth of the
// largest, where a linear axis would flatten them onto zero, and not a
// quarter of them on the smallest value (a flat floor, which a log axis
// would only magnify).
func autoLogY(lines []series) bool {
	var ys []float64
	for _, s := range lines {
		ys = append(ys, s.ys...)
	}
	if len(ys) < 3 {
		return false
	}
	slices.Sort(ys)
	lo, mid, hi := ys[0], ys[len(ys)/2], ys[len(ys)-1]
	floor := 0
	for floor < len(ys) && ys[floor] <= lo*1.01 {
		floor++
	}
	return lo > 0 && hi/lo >= 100 && mid < 0.1*hi && 4*floor < len(ys)
}

// writeAtomic writes a file through a temporary name in the same directory,
// renamed into place once complete: a failure never leaves a partial file.
func writeAtomic(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync() // the data before the name: a crash never leaves an empty file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
