// The alerts page's browser side (pages/alerts.py, pages/_alert_actions.py): the grid's cell
// renderers, the bridge from an alert's buttons to the one server request, and the grid refresh.
// In a file, not inline: the Content-Security-Policy allows only our own scripts.

// Severity and status as coloured pills in the grid (values come from the server, text only).
window.dashAgGridComponentFunctions = Object.assign({}, window.dashAgGridComponentFunctions, {
  AlertSeverity: function (props) {
    if (!props.value) return null;
    return React.createElement("span", {className: "badge badge-" + props.value}, props.value);
  },
  AlertStatus: function (props) {
    if (!props.value) return null;
    return React.createElement("span", {className: "status-pill status-" + props.value}, props.value);
  },
});

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  alerts: {
    // One click on any alert's button -> {alert, action, comment, user}. Only a real click counts:
    // buttons that appear (a redraw) report n_clicks 0 and are ignored.
    request: function (clicks) {
      var ctx = window.dash_clientside.callback_context;
      var trigger = ctx.triggered_id;
      var none = window.dash_clientside.no_update;
      if (!trigger || typeof trigger !== "object" || trigger.type !== "alert-act") return none;
      var pressed = (ctx.inputs_list[0] || []).filter(function (item) {
        return item.id.alert === trigger.alert && item.id.action === trigger.action;
      })[0];
      if (!pressed || !pressed.value) return none;
      function valueFor(list) {
        var found = (list || []).filter(function (item) { return item.id.alert === trigger.alert; })[0];
        return found ? found.value : null;
      }
      return {alert: trigger.alert, action: trigger.action, comment: valueFor(ctx.states_list[0]),
              user: valueFor(ctx.states_list[1]), at: Date.now()};
    },
    // A row was clicked: bring its detail (below the table) into view unless it is already well on screen.
    reveal: function (clicked) {
      var panel = document.getElementById("alerts-detail-panel");
      if (clicked && panel && !String(clicked.colId || "").startsWith("ag-Grid-")) {
        var top = panel.getBoundingClientRect().top;
        if (top > window.innerHeight * 0.5 || top < 0) panel.scrollIntoView({behavior: "smooth", block: "start"});
      }
      return Date.now();
    },
    // Filters changed, or an action was done: the grid asks the server for its rows again.
    refreshGrid: function () {
      var api = window.dash_ag_grid && window.dash_ag_grid.getApi && window.dash_ag_grid.getApi("alerts-grid");
      if (api) {
        var trigger = window.dash_clientside.callback_context.triggered_id;
        if (trigger === "alert-action-done" || trigger === "alerts-bulk-done") {
          api.refreshInfiniteCache();  // keep the scroll position and the rows on screen while reloading
        } else {
          api.purgeInfiniteCache();
          api.ensureIndexVisible(0, "top");
        }
      }
      return Date.now();
    },
  },
});
