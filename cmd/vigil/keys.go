package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
)

// newKeysCmd manages the deployed API's keys in its api_keys table (the stack's
// ApiKeysTable), with the caller's AWS credentials.
func newKeysCmd() *cobra.Command {
	var table, org, name string
	cmd := &cobra.Command{Use: "keys", Short: "Create and revoke API keys of a deployed stack (its api_keys DynamoDB table)"}
	cmd.PersistentFlags().StringVar(&table, "table", "", "the stack's api_keys table name (required)")
	store := func(c *cobra.Command) (*vaws.APIKeys, error) {
		if table == "" {
			return nil, usageError(errors.New("--table is required: the stack's api_keys table (aws dynamodb list-tables)"))
		}
		cfg, err := vaws.Config(c.Context())
		if err != nil {
			return nil, usageError(err)
		}
		return &vaws.APIKeys{Client: dynamodb.NewFromConfig(cfg), Table: table}, nil
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a key for --org named --name; prints the key once (only its SHA-256 is stored)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if name == "" || strings.ContainsAny(org, "/ ") || org == "" {
				return usageError(errors.New("--name is required and --org must be an id without spaces or slashes"))
			}
			s, err := store(c)
			if err != nil {
				return err
			}
			key := api.NewKey()
			if err := s.Put(c.Context(), key, api.Key{Org: org, Name: name}); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), key)
			return nil
		},
	}
	create.Flags().StringVar(&org, "org", "default", "organisation the key is valid for (the stack's org context)")
	create.Flags().StringVar(&name, "name", "", "what the key is for (ci, sensor fleet, ...)")
	revoke := &cobra.Command{
		Use:   "revoke KEY",
		Short: "Revoke a key: requests with it are refused (403)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := store(c)
			if err != nil {
				return err
			}
			k, ok, err := s.Lookup(c.Context(), args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no such key in %s", table)
			}
			k.Revoked = true
			if err := s.Put(c.Context(), args[0], k); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "revoked %s (org %s)\n", k.Name, k.Org)
			return nil
		},
	}
	cmd.AddCommand(create, revoke)
	return cmd
}
