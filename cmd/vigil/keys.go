package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/localrun"
	"github.com/vigil-sec/vigil/sensor/identity"
)

// keyAdmin is where a keys command acts: a store, or the API of a running vigil
// local.
type keyAdmin interface {
	ListKeys(ctx context.Context, org string) ([]api.Key, error)
	RevokeKey(ctx context.Context, org, id string) (api.Key, error)
	CreateKey(ctx context.Context, org string, spec keySpec) (string, api.Key, error)
}

// keySpec is what a created key is: its name, role and, for a sensor key, sensor.
type keySpec struct {
	Name     string   `json:"name"`
	Role     api.Role `json:"role,omitempty"`
	SensorID string   `json:"sensor_id,omitempty"`
}

// check refuses a spec the API would refuse, naming the flag.
func (k *keySpec) check() error {
	if k.Name == "" {
		return usageError(errors.New("--name is required: what the key is for (ci, sensors, ...)"))
	}
	if err := api.CheckKeyName(k.Name); err != nil {
		return usageError(fmt.Errorf("--name: %w", err))
	}
	if k.Role == "" {
		k.Role = api.DefaultRole
	}
	if err := api.CheckRole(k.Role, k.SensorID); err != nil {
		return usageError(fmt.Errorf("--role/--sensor: %w", err))
	}
	return nil
}

// flags registers --name, --role and --sensor.
func (k *keySpec) flags(c *cobra.Command) {
	c.Flags().StringVar(&k.Name, "name", "", "what the key is for (ci, sensor fleet, ...)")
	c.Flags().StringVar((*string)(&k.Role), "role", string(api.DefaultRole), "viewer (read), responder (also tasks and detection status), admin (also keys), or sensor (its own tasks only; needs --sensor)")
	c.Flags().StringVar(&k.SensorID, "sensor", "", "the sensor id a --role sensor key is bound to")
}

// managedStore makes an api.KeyManager (a store) a keyAdmin.
type managedStore struct{ api.KeyManager }

func (m managedStore) CreateKey(ctx context.Context, org string, spec keySpec) (string, api.Key, error) {
	if err := spec.check(); err != nil {
		return "", api.Key{}, err
	}
	key := api.NewKey()
	rec := api.Key{ID: api.KeyID(api.HashKey(key)), Prefix: api.KeyPrefix(key), Org: org, Name: spec.Name, Created: time.Now().UTC(),
		Role: spec.Role, SensorID: spec.SensorID}
	if err := m.PutKey(ctx, key, rec); err != nil {
		return "", api.Key{}, err
	}
	return key, rec, nil
}

// isKeyID reports whether s looks like a key id (api.KeyID): 16 hex digits.
func isKeyID(s string) bool {
	return len(s) == 16 && strings.Trim(s, "0123456789abcdef") == ""
}

// revokeKeys revokes the keys of org that what names: a key id, a key itself
// (vk_...) or a name (every key of that name not yet revoked).
func revokeKeys(ctx context.Context, ka keyAdmin, org, what string) ([]api.Key, error) {
	id := ""
	switch {
	case isKeyID(what):
		id = what
	case strings.HasPrefix(what, "vk_"):
		id = api.KeyID(api.HashKey(what))
	}
	if id != "" {
		k, err := ka.RevokeKey(ctx, org, id)
		if errors.Is(err, api.ErrNotFound) {
			return nil, fmt.Errorf("no key %s in org %s", what, org)
		}
		if err != nil {
			return nil, err
		}
		return []api.Key{k}, nil
	}
	list, err := ka.ListKeys(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []api.Key
	for _, k := range list {
		if k.Name != what || k.Revoked {
			continue
		}
		r, err := ka.RevokeKey(ctx, org, k.ID)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no key with id or name %q in org %s that is not revoked already (vigil keys list shows them)", what, org)
	}
	return out, nil
}

func printKeys(w io.Writer, keys []api.Key, asJSON bool) error {
	if asJSON {
		if keys == nil {
			keys = []api.Key{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string][]api.Key{"keys": keys})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tROLE\tCREATED\tLAST USED\tSTATUS")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, k := range keys {
		status := "active"
		if k.Revoked {
			status = "revoked"
		}
		prefix := k.Prefix
		if prefix == "" {
			prefix = "-"
		}
		role := string(api.EffectiveRole(k.Role))
		if k.SensorID != "" {
			role += ":" + k.SensorID
		}
		fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, prefix, k.Name, role, day(k.Created), day(k.LastUsed), status)
	}
	return tw.Flush()
}

func printRevoked(w io.Writer, keys []api.Key) {
	for _, k := range keys {
		fmt.Fprintf(w, "revoked %s (%s, org %s)\n", k.ID, k.Name, k.Org)
	}
}

// newKeysCmd manages the deployed API's keys in its api_keys table (the stack's
// ApiKeysTable), with the caller's AWS credentials.
func newKeysCmd() *cobra.Command {
	var table, org string
	var spec keySpec
	var asJSON bool
	cmd := &cobra.Command{Use: "keys", Short: "List, create and revoke API keys of a deployed stack (its api_keys DynamoDB table)"}
	cmd.PersistentFlags().StringVar(&table, "table", "", "the stack's api_keys table name (required)")
	cmd.PersistentFlags().StringVar(&org, "org", "default", "organisation of the keys (the stack's org context)")
	store := func(c *cobra.Command) (*vaws.APIKeys, error) {
		if table == "" {
			return nil, usageError(errors.New("--table is required: the stack's api_keys table (aws dynamodb list-tables)"))
		}
		if org == "" || strings.ContainsAny(org, "/ ") {
			return nil, usageError(fmt.Errorf("--org %q: want an id without spaces or slashes", org))
		}
		var opts []func(*awsconfig.LoadOptions) error
		if ec2, _ := identity.OnEC2(""); !ec2 { // off EC2 the SDK's chain must not try the metadata service
			opts = append(opts, vaws.NoIMDS())
		}
		cfg, err := vaws.Config(c.Context(), opts...)
		if err != nil {
			return nil, usageError(err)
		}
		return &vaws.APIKeys{Client: dynamodb.NewFromConfig(cfg), Table: table}, nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the org's keys: id, prefix, name, created, revoked (never the keys)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := store(c)
			if err != nil {
				return err
			}
			keys, err := s.ListKeys(c.Context(), org)
			if err != nil {
				return err
			}
			return printKeys(c.OutOrStdout(), keys, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	create := &cobra.Command{
		Use:   "create --name NAME [--role viewer|responder|admin|sensor --sensor ID]",
		Short: "Create a key for --org named --name with --role (default viewer); prints the key once (only its SHA-256 is stored)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := spec.check(); err != nil {
				return err
			}
			s, err := store(c)
			if err != nil {
				return err
			}
			key, _, err := managedStore{s}.CreateKey(c.Context(), org, spec)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), key)
			return nil
		},
	}
	spec.flags(create)
	revoke := &cobra.Command{
		Use:   "revoke ID|NAME|KEY",
		Short: "Revoke a key by its id (keys list), its name (every key of that name) or the key itself: requests with it are refused (403)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := store(c)
			if err != nil {
				return err
			}
			o := org
			if strings.HasPrefix(args[0], "vk_") { // the key itself names its org
				k, ok, err := s.Lookup(c.Context(), args[0])
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("no such key in %s", table)
				}
				o = k.Org
			}
			keys, err := revokeKeys(c.Context(), managedStore{s}, o, args[0])
			printRevoked(c.OutOrStdout(), keys)
			return err
		},
	}
	cmd.AddCommand(list, create, revoke)
	return cmd
}

// ---- vigil local keys ----

// socketAdmin is the keys API of a running vigil local, over its control socket.
type socketAdmin struct {
	client *http.Client
}

func newSocketAdmin(dir string) *socketAdmin {
	path := filepath.Join(dir, localrun.ControlSocket)
	return &socketAdmin{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}}
}

func (s *socketAdmin) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://vigil-local"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("the running vigil local's control socket: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("the running vigil local's control socket: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		err := fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", err, api.ErrNotFound)
		}
		return err
	}
	return json.Unmarshal(raw, out)
}

func (s *socketAdmin) ListKeys(ctx context.Context, org string) ([]api.Key, error) {
	var out struct{ Keys []api.Key }
	err := s.do(ctx, "GET", "/v1/orgs/"+org+"/keys", nil, &out)
	return out.Keys, err
}

func (s *socketAdmin) RevokeKey(ctx context.Context, org, id string) (api.Key, error) {
	var k api.Key
	err := s.do(ctx, "DELETE", "/v1/orgs/"+org+"/keys/"+id, nil, &k)
	return k, err
}

func (s *socketAdmin) CreateKey(ctx context.Context, org string, spec keySpec) (string, api.Key, error) {
	var out struct {
		api.Key
		Secret string `json:"key"`
	}
	err := s.do(ctx, "POST", "/v1/orgs/"+org+"/keys", spec, &out)
	return out.Secret, out.Key, err
}

// openLocalKeys opens the store in dir, or, while a vigil local holds it, that
// process's control socket. The caller calls done when finished.
func openLocalKeys(dir string) (ka keyAdmin, done func(), err error) {
	if _, err := os.Stat(filepath.Join(dir, local.StoreFile)); err != nil {
		return nil, nil, usageError(fmt.Errorf("--data %s: no vigil local store there (%w)", dir, err))
	}
	st, err := local.OpenStore(dir)
	if err == nil {
		return managedStore{st}, func() { st.Close() }, nil
	}
	if !errors.Is(err, local.ErrLocked) {
		return nil, nil, err
	}
	return newSocketAdmin(dir), func() {}, nil
}

// newLocalKeysCmd manages the API keys of vigil local's store.
func newLocalKeysCmd() *cobra.Command {
	var data string
	var spec keySpec
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List, create and revoke the API keys of vigil local's store (--data)",
		Long: `Acts on the store in --data. While vigil local runs it holds the store, so
these commands go through its API on the control socket --data/api.sock (no key
needed: the socket is as private as the store's directory); otherwise they open
the store directly. Keys are stored hashed and shown only when created.`,
	}
	cmd.PersistentFlags().StringVar(&data, "data", "var/local", "directory of the store")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys: id, prefix, name, created, last used (to the hour), revoked",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ka, done, err := openLocalKeys(data)
			if err != nil {
				return err
			}
			defer done()
			keys, err := ka.ListKeys(c.Context(), localrun.Org)
			if err != nil {
				return err
			}
			return printKeys(c.OutOrStdout(), keys, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	create := &cobra.Command{
		Use:   "create --name NAME [--role viewer|responder|admin|sensor --sensor ID]",
		Short: "Create a key named NAME with --role (default viewer); prints it once",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := spec.check(); err != nil {
				return err
			}
			ka, done, err := openLocalKeys(data)
			if err != nil {
				return err
			}
			defer done()
			key, _, err := ka.CreateKey(c.Context(), localrun.Org, spec)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), key)
			return nil
		},
	}
	spec.flags(create)
	revoke := &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke a key by id, or every key of a name; requests with it get 403 and dashboard sessions opened with it end",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ka, done, err := openLocalKeys(data)
			if err != nil {
				return err
			}
			defer done()
			keys, err := revokeKeys(c.Context(), ka, localrun.Org, args[0])
			printRevoked(c.OutOrStdout(), keys)
			return err
		},
	}
	cmd.AddCommand(list, create, revoke)
	return cmd
}
