// Command vigil is Vigil's command line:
//
//	vigil local [--json] [--lake DIR] [--rules DIR] [--tag K:V]...
//	    the whole pipeline on this machine, no cloud: eBPF sensor → in-process
//	    stream of Parquet batches → detection core; detections on stdout, events
//	    in a local lake (Hive layout). Needs root (exit code 2 otherwise).
//	vigil rules validate [DIR...]
//	vigil rules test [DIR...]
//	    check rule files; run every rule's fixtures (rules/testdata/<rule>/).
//
// Exit codes: 0 success, 1 failure (a rule fixture failed, the pipeline failed),
// 2 usage or environment error (bad flags, not root).
package main
