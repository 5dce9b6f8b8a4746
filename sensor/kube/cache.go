package kube

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Lister lists a node's pods (a Client).
type Lister interface {
	Pods(ctx context.Context) ([]Pod, error)
}

// CacheOptions configures a Cache.
type CacheOptions struct {
	// MaxPods bounds the pods kept; default 1024 (a node runs 110 by
	// default). Pods gone from the kubelet's list are kept, for the last
	// events of their processes, until the bound needs their room.
	MaxPods int
	// MinInterval is the least time between two lists; default 10s. An
	// event of an unknown pod or container asks for a list, at most this
	// often.
	MinInterval time.Duration
	// Resync lists the pods this often even when no event asks (labels
	// change); default 5m.
	Resync time.Duration
	Log    *slog.Logger
}

// Cache holds the pods of the node, keyed by pod UID and by container id,
// and fills events from them. Fill never waits for the kubelet: Run lists
// the pods in the background.
type Cache struct {
	list Lister
	opts CacheOptions
	wake chan struct{}

	mu    sync.RWMutex
	pods  map[string]*cached // by UID
	ctrs  map[string]ctrRef  // by container id
	gen   uint64             // lists done
	lists uint64
	errs  uint64
}

type cached struct {
	pod Pod
	gen uint64 // the list that last held it
}

type ctrRef struct {
	pod *Pod
	ctr Container
}

// NewCache returns an empty Cache listing pods with l.
func NewCache(l Lister, o CacheOptions) *Cache {
	if o.MaxPods <= 0 {
		o.MaxPods = 1024
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 10 * time.Second
	}
	if o.Resync <= 0 {
		o.Resync = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Cache{list: l, opts: o, wake: make(chan struct{}, 1),
		pods: map[string]*cached{}, ctrs: map[string]ctrRef{}}
}

// Fill sets the pod and container fields of ev, a process's event whose
// cgroup names pod podUID and container containerID (either may be empty).
// A container the cache knows gets its pod's and its own fields; a known
// pod's container not listed yet, its pod's; an unknown pod, its UID only.
// The last two ask Run for a list.
func (c *Cache) Fill(ev *event.Event, podUID, containerID string) {
	if podUID == "" {
		return // not in a pod
	}
	ev.PodUID = podUID
	c.mu.RLock()
	ref, ok := c.ctrs[containerID]
	if ok && ref.pod.UID == podUID {
		c.mu.RUnlock()
		setPod(ev, ref.pod)
		ev.ContainerName, ev.ContainerImage = ref.ctr.Name, ref.ctr.Image
		return
	}
	p, ok := c.pods[podUID]
	c.mu.RUnlock()
	if ok {
		setPod(ev, &p.pod)
	}
	c.Request()
}

func setPod(ev *event.Event, p *Pod) {
	ev.PodName, ev.PodNamespace, ev.PodLabels = p.Name, p.Namespace, p.Labels
	ev.PodServiceAccount, ev.NodeName = p.ServiceAccount, p.Node
}

// Request asks Run for a list, without waiting.
func (c *Cache) Request() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run lists the pods now, then when asked (at most once per MinInterval)
// and every Resync, until ctx ends. A failed list is logged and leaves the
// cache as it was.
func (c *Cache) Run(ctx context.Context) {
	resync := time.NewTicker(c.opts.Resync)
	defer resync.Stop()
	for {
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.opts.Log.Warn("kubernetes pod list failed: events keep their pod UID only", "err", err)
		}
		// the rate limit: no list before MinInterval has passed
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.opts.MinInterval):
		}
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-resync.C:
		}
	}
}

// Refresh lists the pods once and stores them.
func (c *Cache) Refresh(ctx context.Context) error {
	pods, err := c.list.Pods(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists++
	if err != nil {
		c.errs++
		return err
	}
	c.gen++
	if len(pods) > c.opts.MaxPods {
		pods = pods[:c.opts.MaxPods]
	}
	for _, p := range pods {
		c.pods[p.UID] = &cached{pod: p, gen: c.gen}
	}
	if over := len(c.pods) - c.opts.MaxPods; over > 0 {
		old := make([]*cached, 0, len(c.pods))
		for _, p := range c.pods {
			if p.gen != c.gen {
				old = append(old, p)
			}
		}
		sort.Slice(old, func(i, j int) bool { return old[i].gen < old[j].gen })
		for _, p := range old[:over] {
			delete(c.pods, p.pod.UID)
		}
	}
	c.ctrs = make(map[string]ctrRef, len(c.ctrs))
	for _, p := range c.pods {
		for id, ctr := range p.pod.Containers {
			c.ctrs[id] = ctrRef{pod: &p.pod, ctr: ctr}
		}
	}
	return nil
}

// Stats counts the cache's work.
type Stats struct {
	Pods   int    // pods held
	Lists  uint64 // lists asked of the kubelet
	Errors uint64 // of which failed
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{Pods: len(c.pods), Lists: c.lists, Errors: c.errs}
}
