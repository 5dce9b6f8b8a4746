// Command corpus measures the rule importers against real rule files: given a
// directory laid out as falco/ and sigma/ (Falco's rules files, SigmaHQ's rule
// tree), it prints for each source a table of what converts and what does not,
// per file and category, and the reason of every rule that does not.
//
//	make corpus CORPUS=path/to/corpora
//
// It reads only the directory it is given and is not part of make test: the
// project's tests use fixtures of their own.
package main
