package api

import (
	"net/http"
	"strings"
)

func (s *Server) keyAdmin(w http.ResponseWriter, r *http.Request) bool {
	if s.KeyAdmin == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "key management is not configured on this server"})
		return false
	}
	return true
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	if !s.keyAdmin(w, r) {
		return
	}
	list, err := s.KeyAdmin.ListKeys(r.Context(), r.PathValue("org"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []Key{}
	}
	for i := range list {
		list[i].Role = EffectiveRole(list[i].Role)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"keys": list})
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	if !s.keyAdmin(w, r) {
		return
	}
	var req struct {
		Name     string `json:"name"`
		Role     Role   `json:"role"`
		SensorID string `json:"sensor_id"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Role == "" {
		req.Role = DefaultRole
	}
	if err := CheckKeyName(req.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := CheckRole(req.Role, req.SensorID); err != nil {
		s.fail(w, r, err)
		return
	}
	key := NewKey()
	rec := Key{ID: KeyID(HashKey(key)), Prefix: KeyPrefix(key), Org: r.PathValue("org"), Name: req.Name, Created: s.now().UTC(),
		Role: req.Role, SensorID: req.SensorID}
	if err := s.KeyAdmin.PutKey(r.Context(), key, rec); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, struct {
		Key
		Secret string `json:"key"` // shown this once
	}{rec, key})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	if !s.keyAdmin(w, r) {
		return
	}
	id := r.PathValue("id")
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		s.fail(w, r, badRequest("key id %q: want the 16 hex digits keys are listed with", id))
		return
	}
	k, err := s.KeyAdmin.RevokeKey(r.Context(), r.PathValue("org"), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}
