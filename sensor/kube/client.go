package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Where a pod's service account token and the cluster CA are mounted.
const (
	DefaultTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// maxPodList bounds the kubelet's answer read: a node's 110 pods take some
// hundreds of KiB.
const maxPodList = 32 << 20

// ClientOptions configures a Client.
type ClientOptions struct {
	// URL is the kubelet's, e.g. https://node-1:10250 (the authenticated
	// port) or http://127.0.0.1:10255 (the read-only port, when enabled).
	URL string
	// TokenFile holds the bearer token sent over https, read on every list
	// (projected tokens are rotated); CAFile the CA the kubelet's serving
	// certificate must chain to. Neither is used over http: no token is
	// sent in the clear.
	TokenFile string
	CAFile    string
	// Timeout bounds one list; default 10s.
	Timeout time.Duration
}

// Client lists the pods the kubelet runs.
type Client struct {
	url       string
	tokenFile string
	http      *http.Client
}

// NewClient checks the options and reads the CA. An https URL needs a CA
// file with at least one certificate.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("kubelet url %q: want https://host:port or http://host:port", o.URL)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	c := &Client{url: strings.TrimSuffix(o.URL, "/") + "/pods", http: &http.Client{Timeout: o.Timeout}}
	if u.Scheme == "http" {
		return c, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("kubelet CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kubelet CA %s: no PEM certificate in it", o.CAFile)
	}
	c.tokenFile = o.TokenFile
	c.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return c, nil
}

// Pods lists the kubelet's pods.
func (c *Client) Pods(ctx context.Context) ([]Pod, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	if c.tokenFile != "" {
		tok, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("kubelet token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kubelet: GET %s: %s", c.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPodList+1))
	if err != nil {
		return nil, fmt.Errorf("kubelet: GET %s: %w", c.url, err)
	}
	if len(data) > maxPodList {
		return nil, fmt.Errorf("kubelet: GET %s: %w", c.url, errTooLarge)
	}
	pods, err := ParsePodList(data)
	if err != nil {
		return nil, fmt.Errorf("kubelet: GET %s: %w", c.url, err)
	}
	return pods, nil
}

var errTooLarge = fmt.Errorf("answer larger than %d bytes", maxPodList)

// Enabled settles kubernetes.enabled: "true" and "false" as given; "auto"
// (or "") when the pod's service account token and CA files exist and
// nodeName (the NODE_NAME variable a DaemonSet sets from spec.nodeName) is
// set.
func Enabled(mode, tokenFile, caFile, nodeName string) bool {
	switch mode {
	case "true":
		return true
	case "false":
		return false
	}
	return nodeName != "" && exists(tokenFile) && exists(caFile)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist) && err == nil
}

// DefaultURL is the kubelet's authenticated port on the node.
func DefaultURL(nodeName string) string {
	return "https://" + nodeName + ":10250"
}
