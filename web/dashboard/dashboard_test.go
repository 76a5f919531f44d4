package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/web/signin"
)

// TestLayoutAndErrorPage renders the 400 page for a signed-in person:
// the layout names them, carries the session's CSRF token in the sign-out
// form, and escapes the problem's text exactly once.
func TestLayoutAndErrorPage(t *testing.T) {
	t.Parallel()
	db, err := New(Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/incidents?severity=sev9", nil)
	ctx := signin.WithCSRFToken(signin.WithUser(r.Context(), signin.User{ID: "U0ALICE", Name: "Alice <A&B>"}), "tok123")
	w := httptest.NewRecorder()
	db.badRequest(w, r.WithContext(ctx), `severity "sev9" <b>is not</b> one of sev1…sev4`)
	body := w.Body.String()
	if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{"Alice &lt;A&amp;B&gt;", `name="csrf" value="tok123"`, "&lt;b&gt;is not&lt;/b&gt;", "<title>Bad request · sitrep</title>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<b>is not") || strings.Contains(body, "&amp;lt;") {
		t.Errorf("text escaped not exactly once:\n%s", body)
	}
}
