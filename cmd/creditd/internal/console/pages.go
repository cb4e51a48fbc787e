package console

import "net/http"

// builtinPages is the console's page registry as built here. Pages
// register in navigation order.
//
// Objections (objections.go: "GET/POST /console/objections" and the
// queue "GET /console/reg/objections"), joint measures (entity.html
// "measures-slot") and transfer notices ("GET /console/reg/notices") are
// built in, and so is model monitoring (models.go: "GET
// /console/reg/models", PSI and champion/challenger agreement from GET
// /v1/stats/challenger, with a card on the dashboard), and so is the
// front desk issuing an enterprise its report with the query code
// (issue.go: "GET/POST /console/reg/issue" over POST
// /v1/reports/{uscc}/issue).
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
		{Pattern: "GET " + Prefix + "objections", Nav: "nav.objection", Area: AreaPublic, Handle: c.handleObjection},
		{Pattern: "POST " + Prefix + "objections", Area: AreaPublic, Handle: c.handleObjectionFile},
		{Pattern: "GET " + Prefix + "peers", Nav: "nav.peers", Area: AreaPeer, Handle: c.handlePeers},
		{Pattern: "GET " + Prefix + "signin", Area: AreaPublic, Handle: c.handleSignInForm},
		{Pattern: "POST " + Prefix + "signin", Area: AreaPublic, Handle: c.handleSignIn},
		{Pattern: "POST " + Prefix + "signout", Area: AreaPublic, Handle: c.handleSignOut},
		{Pattern: "GET " + Prefix + "reg/{$}", Nav: "nav.dash", Link: Prefix + "reg/", Area: AreaRegulator, Handle: c.handleDashboard},
		{Pattern: "GET " + Prefix + "reg/entity", Nav: "nav.entity", Area: AreaRegulator, Handle: c.handleEntity},
		{Pattern: "GET " + Prefix + "reg/issue", Nav: "nav.issue", Area: AreaRegulator, Handle: c.handleIssueForm},
		{Pattern: "POST " + Prefix + "reg/issue", Area: AreaRegulator, Handle: c.handleIssue},
		{Pattern: "GET " + Prefix + "reg/draws/new", Nav: "nav.draw", Area: AreaRegulator, Handle: c.handleDrawNew},
		{Pattern: "POST " + Prefix + "reg/draws/preview", Area: AreaRegulator, Handle: c.handleDrawPreview},
		{Pattern: "POST " + Prefix + "reg/draws/commit", Area: AreaRegulator, Handle: c.handleDrawCommit},
		{Pattern: "POST " + Prefix + "reg/draws/run", Area: AreaRegulator, Handle: c.handleDrawRun},
		{Pattern: "GET " + Prefix + "reg/draws/view", Area: AreaRegulator, Handle: c.handleDrawView},
		{Pattern: "POST " + Prefix + "reg/draws/publish", Area: AreaRegulator, Handle: c.handleDrawPublish},
		{Pattern: "GET " + Prefix + "reg/objections", Nav: "nav.queue", Area: AreaRegulator, Handle: c.handleQueue},
		{Pattern: "POST " + Prefix + "reg/objections/answer", Area: AreaRegulator, Handle: c.handleAnswer},
		{Pattern: "GET " + Prefix + "reg/notices", Nav: "nav.notices", Area: AreaRegulator, Handle: c.handleNotices},
		{Pattern: "GET " + Prefix + "reg/models", Nav: "nav.models", Area: AreaRegulator, Handle: c.handleModels},
		{Pattern: Prefix, Area: AreaPublic, Handle: c.handleNotFound},
	}
}

// handleNotFound answers any other console path.
func (c *Console) handleNotFound(w http.ResponseWriter, r *http.Request, v *View) {
	c.fail(w, r, v, http.StatusNotFound, "err.notfound")
}
