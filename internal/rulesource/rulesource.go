package rulesource

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/sigma"
	"github.com/vigil-sec/vigil/internal/tuning"
)

// Builtin is the name of the shipped pack among the sources; its files are shown
// as builtin/<file>.
const Builtin = "builtin"

// maxFileSize bounds a rule file: anything larger is not a rule file read by mistake.
const maxFileSize = 16 << 20

// ErrNoSource is wrapped by the error for a source path that does not exist or
// cannot be read.
var ErrNoSource = errors.New("not a directory or file of rules")

// Options say where the rules come from.
type Options struct {
	// Pack is the shipped rule pack (rules.FS); nil leaves it out.
	Pack fs.FS
	// Paths are directories and files of rules and tuning files, in order.
	Paths []string
}

// Kind is what a file holds.
type Kind int

// Kinds of files.
const (
	Rule   Kind = iota // a Vigil D&R rule
	Lists              // a Vigil lists/macros file
	Falco              // a Falco rules file
	Sigma              // a Sigma rule (or collection)
	Tuning             // a tuning file
)

var kindNames = [...]string{Rule: "vigil", Lists: "lists", Falco: "falco", Sigma: "sigma", Tuning: "tuning"}

func (k Kind) String() string { return kindNames[k] }

// File is one file read from a source.
type File struct {
	// Path is the file as messages name it: builtin/<file> for the pack, the
	// source's directory joined with the file's path in it otherwise.
	Path string
	// Rel is the file's path in its source's Dir, slash-separated.
	Rel  string
	Kind Kind
	// Rules counts the rules loaded from the file (converted ones included).
	Rules int

	src  *Source
	data []byte
}

// Source is one source: the pack, a directory or a file.
type Source struct {
	// Name is Builtin or the path as given.
	Name string
	// Dir is the directory the source's files are read from: the path of a directory
	// source, the directory of a file source; "" for the pack.
	Dir string
	// File is the file's name in Dir for a source given as a file, "" otherwise.
	File string
	// Files are the files read from the source, in the order read (a file read by
	// an earlier source is not read again).
	Files []*File

	fsys    fs.FS
	display string // prefix of the files' Paths
}

// Rules counts the rules loaded from the source, by the kind of file they came from.
func (s *Source) Rules() map[Kind]int {
	out := map[Kind]int{}
	for _, f := range s.Files {
		out[f.Kind] += f.Rules
	}
	return out
}

// Summary describes the source in one line: "testdata/mixed: 6 rules (3 vigil, 2
// falco, 1 sigma), 1 lists file, 1 tuning file"; "site.yaml: 1 tuning file".
func (s *Source) Summary() string {
	files := map[Kind]int{}
	for _, f := range s.Files {
		files[f.Kind]++
	}
	by := s.Rules()
	var parts, kinds []string
	for _, k := range []Kind{Rule, Falco, Sigma} {
		if by[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", by[k], k))
		}
	}
	switch total := by[Rule] + by[Falco] + by[Sigma]; {
	case len(kinds) == 1:
		parts = append(parts, fmt.Sprintf("%d rules (%s)", total, kindNames[kindOf(by)]))
	case len(kinds) > 1:
		parts = append(parts, fmt.Sprintf("%d rules (%s)", total, strings.Join(kinds, ", ")))
	case files[Lists]+files[Tuning] == 0:
		parts = append(parts, "no rules")
	}
	for _, k := range []Kind{Lists, Tuning} {
		switch n := files[k]; {
		case n == 1:
			parts = append(parts, fmt.Sprintf("1 %s file", k))
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s files", n, k))
		}
	}
	return s.Name + ": " + strings.Join(parts, ", ")
}

// kindOf is the one rule kind with rules in by.
func kindOf(by map[Kind]int) Kind {
	for _, k := range []Kind{Rule, Falco, Sigma} {
		if by[k] > 0 {
			return k
		}
	}
	return Rule
}

// Set is the rule set of a list of sources.
type Set struct {
	Sources []*Source
	// Rules are the rules that run: every rule loaded, tuned, less the disabled
	// ones, sorted by name.
	Rules []*engine.Rule
	// Disabled are the rules tuning disabled, tuned, sorted by name.
	Disabled []*engine.Rule
	// Library holds the lists and macros of every source.
	Library *engine.Library
	// Changes are what tuning changed, in the order applied.
	Changes []tuning.Change
	// Warnings: unused lists and macros, shadowed rules, Vigil rules without
	// fixtures, rules the importers skipped, tuning entries selecting no rule.
	Warnings []engine.Warning

	origins map[string]*File // the file of each rule, by name
}

// Engine indexes the set's rules for evaluation.
func (s *Set) Engine() (*engine.Engine, error) { return engine.New(s.Rules) }

// Load reads every source, in order, and builds the set. It reads every file of
// every source and returns all the errors it finds together (errors.Join, each
// naming its file and line), with the set of what did load; a caller that runs
// rules must refuse a set that came with an error.
func Load(opts Options) (*Set, error) {
	l := &loader{set: &Set{Library: engine.NewLibrary(), origins: map[string]*File{}}, seen: map[string]bool{}}
	if opts.Pack != nil {
		src := &Source{Name: Builtin, fsys: opts.Pack, display: Builtin}
		l.set.Sources = append(l.set.Sources, src)
		l.walk(src, ".")
	}
	for _, p := range opts.Paths {
		l.path(p)
	}
	l.compile()
	return l.set, errors.Join(l.errs...)
}

// loader accumulates the files read and the errors found.
type loader struct {
	set   *Set
	files []*File
	seen  map[string]bool // files already read, by source identity and path
	errs  []error
}

func (l *loader) errf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf(format, args...))
}

// path adds a directory or file given on the command line or in the environment.
func (l *loader) path(p string) {
	st, err := os.Stat(p)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w: %w", p, ErrNoSource, err))
		return
	}
	src := &Source{Name: p}
	l.set.Sources = append(l.set.Sources, src)
	if st.IsDir() {
		src.Dir, src.display = p, filepath.Clean(p)
		src.fsys = os.DirFS(p)
		l.walk(src, ".")
		return
	}
	src.Dir, src.File = filepath.Dir(p), filepath.Base(p)
	src.display = src.Dir
	src.fsys = os.DirFS(src.Dir)
	f := l.read(src, src.File)
	if f == nil || f.Kind != Rule {
		return
	}
	// a rule given alone may use the lists and macros of its directory
	entries, err := fs.ReadDir(src.fsys, ".")
	if err != nil {
		l.errf("%s: read rules: %w", src.Dir, err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() && engine.IsRuleFile(e.Name()) && e.Name() != f.Rel {
			data, err := fs.ReadFile(src.fsys, e.Name())
			if err == nil && engine.IsLibrary(data) {
				l.read(src, e.Name())
			}
		}
	}
}

// walk reads the rule files under dir in src, in lexical order, skipping testdata/
// and hidden directories.
func (l *loader) walk(src *Source, dir string) {
	err := fs.WalkDir(src.fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			l.errf("%s: read rules: %w", src.path(name), err)
			return nil
		}
		if d.IsDir() {
			if name != dir && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if engine.IsRuleFile(name) {
			l.read(src, name)
		}
		return nil
	})
	if err != nil {
		l.errf("%s: read rules: %w", src.path(dir), err)
	}
}

// path is how messages name the file name (slash-separated) of the source.
func (s *Source) path(name string) string {
	if s.Dir == "" {
		return path.Join(s.display, name)
	}
	return filepath.Join(s.display, filepath.FromSlash(name))
}

// read reads and classifies one file of src; nil when it was read before or could
// not be read (the error is recorded).
func (l *loader) read(src *Source, name string) *File {
	key := src.Name + "\x00" + name
	if src.Dir != "" {
		if abs, err := filepath.Abs(filepath.Join(src.Dir, filepath.FromSlash(name))); err == nil {
			key = abs
		}
	}
	if l.seen[key] {
		return nil
	}
	l.seen[key] = true
	f := &File{Path: src.path(name), Rel: name, src: src}
	if st, err := fs.Stat(src.fsys, name); err == nil && st.Size() > maxFileSize {
		l.errf("%s: %d bytes: a rule file is at most %d", f.Path, st.Size(), maxFileSize)
		return nil
	}
	data, err := fs.ReadFile(src.fsys, name)
	if err != nil {
		l.errf("%s: read rules: %w", f.Path, err)
		return nil
	}
	f.data = data
	kind, err := classify(f.Path, data)
	if err != nil {
		l.errs = append(l.errs, err)
		return nil
	}
	f.Kind = kind
	src.Files = append(src.Files, f)
	l.files = append(l.files, f)
	return f
}

// compile builds the set from the files read: library, rules, conversions, checks
// and tuning.
func (l *loader) compile() {
	set := l.set
	byKind := map[Kind][]*File{}
	for _, f := range l.files {
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	libOK := true
	for _, f := range byKind[Lists] {
		if err := set.Library.Add(f.Path, f.data); err != nil {
			l.errs, libOK = append(l.errs, err), false
		}
	}
	if libOK {
		if err := set.Library.Validate(); err != nil {
			l.errs = append(l.errs, err)
		}
	}
	var all []*engine.Rule
	add := func(r *engine.Rule, f *File) {
		if prev, dup := set.origins[r.Name]; dup {
			first := prev.Path
			for _, x := range all {
				if x.Name == r.Name {
					first = fmt.Sprintf("%s:%d", x.File, x.Line)
				}
			}
			hint := "rename one of them"
			if prev.src.Dir == "" {
				hint += ", or tune the shipped one, or leave the shipped pack out"
			}
			l.errf("%s:%d: rule %s is defined twice: here and at %s (%s)", r.File, r.Line, r.Name, first, hint)
			return
		}
		set.origins[r.Name] = f
		f.Rules++
		all = append(all, r)
	}
	for _, f := range byKind[Rule] {
		r, err := engine.ParseWith(f.Path, f.data, set.Library)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		add(r, f)
	}
	rules, skipped, err := convertFalco(byKind[Falco])
	if err != nil {
		l.errs = append(l.errs, err)
	}
	l.converted(byKind[Falco], rules, skipped, add)
	for _, f := range byKind[Sigma] {
		rules, skipped, err := convertEach([]*File{f}, sigma.Convert)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		l.converted([]*File{f}, rules, skipped, add)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	set.Warnings = append(engine.Warnings(all, set.Library, func(r *engine.Rule) bool {
		f := set.origins[r.Name]
		return f.Kind != Rule || fixtureDir(f, r.Name) != ""
	}), set.Warnings...)
	l.tune(all, byKind[Tuning])
}

// converted compiles the rules an importer converted from files and records what
// it skipped as warnings (validate --strict fails on them): left out on purpose
// (disabled, deprecated), or not convertible, with the reason.
func (l *loader) converted(files []*File, rules []importer.Rule, skipped []importer.Skipped, add func(*engine.Rule, *File)) {
	if len(files) == 0 {
		return // nothing was converted
	}
	for _, s := range skipped {
		f, line := fileOf(files, s.Reason)
		switch {
		case s.Ignored:
			l.set.Warnings = append(l.set.Warnings, engine.Warning{File: f.Path, Line: line, Msg: "skipped " + s.Name + ": " + trimWhere(s.Reason, f.Path)})
		default:
			l.set.Warnings = append(l.set.Warnings, engine.Warning{File: f.Path, Line: line, Msg: "not converted: " + trimWhere(s.Reason, f.Path)})
		}
	}
	for _, r := range rules {
		f, line := fileOf(files, r.Source)
		er, err := engine.Parse(r.FileName(), r.YAML)
		if err != nil {
			l.errf("%s: the converted rule does not load: %w", r.Source, err)
			continue
		}
		er.File, er.Line = f.Path, line
		add(er, f)
	}
}

// fileOf finds which of files (at least one) a converter's message ("<file>:<line>:
// …") is about, and the line; the first file and line 0 when the message names none
// of them.
func fileOf(files []*File, msg string) (*File, int) {
	best := -1
	for i, f := range files {
		if strings.HasPrefix(msg, f.Path+":") && (best < 0 || len(f.Path) > len(files[best].Path)) {
			best = i
		}
	}
	if best < 0 {
		return files[0], 0
	}
	rest := msg[len(files[best].Path)+1:]
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	line, _ := strconv.Atoi(rest[:end])
	return files[best], line
}

// trimWhere drops a leading "<file>:<line>: " from a converter's message.
func trimWhere(msg, file string) string {
	rest, ok := strings.CutPrefix(msg, file+":")
	if !ok {
		return msg
	}
	if i := strings.Index(rest, ": "); i >= 0 {
		if _, err := strconv.Atoi(rest[:i]); err == nil {
			return rest[i+2:]
		}
	}
	return msg
}

// withWhere makes sure a converter's message names its file.
func withWhere(msg, file string) string {
	if strings.HasPrefix(msg, file+":") {
		return msg
	}
	return file + ": " + msg
}

// tune applies the tuning files, in order, to the rules.
func (l *loader) tune(all []*engine.Rule, files []*File) {
	var parsed []*tuning.File
	for _, f := range files {
		tf, err := tuning.Parse(f.Path, f.data)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		parsed = append(parsed, tf)
	}
	targets := make([]tuning.Target, len(all))
	for i, r := range all {
		f := l.set.origins[r.Name]
		targets[i] = tuning.Target{Rule: r, File: f.Path, Format: f.Kind.String()}
	}
	res, err := tuning.Apply(targets, parsed, l.set.Library)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	l.set.Rules, l.set.Disabled = res.Rules, res.Disabled
	l.set.Changes = res.Changes
	l.set.Warnings = append(l.set.Warnings, res.Warnings...)
}
