package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script",
		Long: `Prints a completion script for vigil's commands and flags.

  bash:  source <(vigil completion bash)
         or: vigil completion bash > /etc/bash_completion.d/vigil
  zsh:   vigil completion zsh > "${fpath[1]}/_vigil"   (then start a new shell)
  fish:  vigil completion fish > ~/.config/fish/completions/vigil.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("completion: give one shell: bash, zsh or fish"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageError(fmt.Errorf("completion: unknown shell %q: want bash, zsh or fish", args[0]))
		},
	}
}
