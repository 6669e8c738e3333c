package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// series is one line of a plot.
type series struct {
	name string
	xs   []float64
	ys   []float64
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

// writePlot draws lines and saves them to path (SVG or PNG, by extension),
// through a temporary file renamed into place.
func writePlot(path, title, xlabel, ylabel string, lines []series) error {
	format, err := plotFormat(path)
	if err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	for i, s := range lines {
		pts := make(plotter.XYs, len(s.xs))
		for j := range s.xs {
			pts[j] = plotter.XY{X: s.xs[j], Y: s.ys[j]}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 7)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if len(pts) <= 64 {
			sc, err := plotter.NewScatter(pts)
			if err == nil {
				sc.Color = l.Color
				sc.Shape = plotutil.Shape(i)
				sc.Radius = vg.Points(2)
				p.Add(sc)
			}
		}
		if s.name != "" {
			p.Legend.Add(s.name, l)
		}
	}
	p.Y.Min = 0 // counts and ratios: an honest axis starts at zero
	p.BackgroundColor = color.White
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, format)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(f *os.File) error {
		_, err := wt.WriteTo(f)
		return err
	})
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
