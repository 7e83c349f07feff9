package httpapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"netsmith/internal/netcfg"
)

// checkText refuses a string the databases cannot store or compare: a NUL
// byte (PostgreSQL text holds none) or bytes that are not UTF-8 (PostgreSQL
// refuses them, SQLite compares them as bytes). Checked before any query,
// such a value is a 400 naming its field instead of a 500 from the driver.
func checkText(field, s string) error {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return &netcfg.FieldError{Field: field, Msg: "contains a NUL byte"}
	case !utf8.ValidString(s):
		return &netcfg.FieldError{Field: field, Msg: "is not valid UTF-8"}
	}
	return nil
}

// checkDepartment checks a department a client names, "" being none.
func checkDepartment(d string) error {
	if d == "" {
		return nil
	}
	if err := netcfg.ValidateDepartment(d); err != nil {
		return &netcfg.FieldError{Field: "department", Msg: err.Error()}
	}
	return nil
}

// checkRequestText applies checkText to what a request carries outside its
// body: the route's path wildcards, the query (names and values) and the
// Idempotency-Key header. JSON bodies are decoded to valid UTF-8; their
// fields that reach a query are checked where they are read.
func checkRequestText(r *http.Request) error {
	for rest := r.Pattern; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			break
		}
		name, tail, _ := strings.Cut(after, "}")
		rest = tail
		if name = strings.TrimSuffix(name, "..."); name == "$" {
			continue
		}
		if err := checkText(name, r.PathValue(name)); err != nil {
			return err
		}
	}
	for k, vs := range r.URL.Query() {
		if err := checkText("query parameter", k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := checkText(k, v); err != nil {
				return err
			}
		}
	}
	return checkText("Idempotency-Key", r.Header.Get("Idempotency-Key"))
}
