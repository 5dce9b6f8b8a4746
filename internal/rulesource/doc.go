// Package rulesource builds the one rule set Vigil runs from a list of rule
// sources: the shipped pack (rules.FS, unless left out) and directories and files
// of Vigil D&R rules, Falco rules files, Sigma rules and tuning files. `vigil
// local`, `vigil rules validate|test` and the detect function (its environment,
// OptionsFromEnv) all load rules through Load.
//
// Directories are read recursively, in lexical order, skipping testdata/ (the
// fixtures) and hidden directories and not following symbolic links to
// directories; their *.yaml and *.yml files are read, a file given by name
// whatever its extension. A file read by an earlier source is not read again. Each file's format is told by its content
// (tuning.Is, then importer.Sniff):
//
//   - Vigil lists/macros files of every source form one library, so a user's rules
//     may use the pack's lists and macros; names are unique across all of them.
//     A Vigil rule given as a file brings the lists files of its directory.
//   - Vigil rules are compiled with that library.
//   - Falco files of all sources form one ordered set (sources in the order given,
//     a directory's files in lexical order) converted together as Falco loads
//     them (falco.ConvertSet); a rule that cannot be converted faithfully, and a
//     disabled one, are warnings with the reason (validate --strict fails on
//     them); a set Falco would refuse (an append to something never defined) is
//     an error.
//   - Sigma files are converted one by one; rules outside what Vigil's events
//     express, and deprecated ones, are warnings (validate --strict fails on them).
//   - Tuning files are applied in the same order once every rule has loaded
//     (package tuning): they disable and enable rules, change severities and add
//     exceptions, which the engine compiles into the rules' detections.
//
// Rule names are unique across the set: a second rule of a name is an error naming
// both files. Load reads every file of every source and reports every error it
// finds, each naming its file and line, together; a file that is none of the
// formats says what it looked like (invalid YAML with its line, a rule with its
// engine error, a mapping with which keys).
//
// A rule's fixtures are testdata/<rule>/match.yaml and nomatch.yaml in the
// directory of its file or the nearest directory above it within its source, for
// rules converted from Falco and Sigma files as for Vigil rules; Set.RunFixtures
// runs those that exist, on the rules as tuned.
package rulesource
