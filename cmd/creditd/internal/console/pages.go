package console

import "net/http"

// builtinPages is the console's page registry as built here. Pages
// register in navigation order.
//
// Extension points (pages of features merged later register with
// Console.Register before Handler, or are added to this list):
//   - objections (workflows): a public page "GET /console/objections"
//     (file against a record of the report page, follow by query code;
//     the report page's records have an "objection" slot, see
//     report.html "objection-slot") and a regulator queue
//     "GET /console/reg/objections" (deadlines, overdue highlighted);
//   - joint measures (workflows): a section of the entity drill-down
//     (entity.html "measures-slot");
//   - model monitoring (shadow): "GET /console/reg/models" (PSI,
//     champion/challenger agreement), Area AreaRegulator, Nav "nav.models".
//
// Their message keys go in i18n.go.
func builtinPages(c *Console) []Page {
	return []Page{
		{Pattern: "GET " + Prefix + "{$}", Nav: "nav.home", Link: Prefix, Area: AreaPublic, Handle: c.handleHome},
		{Pattern: "GET " + Prefix + "report", Area: AreaPublic, Handle: c.handleReport},
		{Pattern: "GET " + Prefix + "report/download", Area: AreaPublic, Handle: c.handleDownload},
		{Pattern: "GET " + Prefix + "verify", Nav: "nav.verify", Area: AreaPublic, Handle: c.handleVerifyForm},
		{Pattern: "POST " + Prefix + "verify", Area: AreaPublic, Handle: c.handleVerify},
		{Pattern: "GET " + Prefix + "draws/verify", Nav: "nav.dverify", Area: AreaPublic, Handle: c.handleDrawVerify},
		{Pattern: "GET " + Prefix + "peers", Nav: "nav.peers", Area: AreaPeer, Handle: c.handlePeers},
		{Pattern: "GET " + Prefix + "signin", Area: AreaPublic, Handle: c.handleSignInForm},
		{Pattern: "POST " + Prefix + "signin", Area: AreaPublic, Handle: c.handleSignIn},
		{Pattern: "POST " + Prefix + "signout", Area: AreaPublic, Handle: c.handleSignOut},
		{Pattern: "GET " + Prefix + "reg/{$}", Nav: "nav.dash", Link: Prefix + "reg/", Area: AreaRegulator, Handle: c.handleDashboard},
		{Pattern: "GET " + Prefix + "reg/entity", Nav: "nav.entity", Area: AreaRegulator, Handle: c.handleEntity},
		{Pattern: "GET " + Prefix + "reg/draws/new", Nav: "nav.draw", Area: AreaRegulator, Handle: c.handleDrawNew},
		{Pattern: "POST " + Prefix + "reg/draws/preview", Area: AreaRegulator, Handle: c.handleDrawPreview},
		{Pattern: "POST " + Prefix + "reg/draws/commit", Area: AreaRegulator, Handle: c.handleDrawCommit},
		{Pattern: "POST " + Prefix + "reg/draws/run", Area: AreaRegulator, Handle: c.handleDrawRun},
		{Pattern: "GET " + Prefix + "reg/draws/view", Area: AreaRegulator, Handle: c.handleDrawView},
		{Pattern: "POST " + Prefix + "reg/draws/publish", Area: AreaRegulator, Handle: c.handleDrawPublish},
		{Pattern: Prefix, Area: AreaPublic, Handle: c.handleNotFound},
	}
}

// handleNotFound answers any other console path.
func (c *Console) handleNotFound(w http.ResponseWriter, r *http.Request, v *View) {
	c.fail(w, r, v, http.StatusNotFound, "err.notfound")
}
