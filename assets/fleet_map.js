// Styling for the fleet map's GeoJSON layer (components/fleet_map.py): pins, clusters, popups.
window.fleetMap = (function () {
  var COLOURS = {g: "#22c55e", y: "#facc15", r: "#ef4444", o: "#6b7280"};
  var LABELS = {g: "OK", y: "Attention", r: "Critical", o: "No data 24 h"};
  var RANK = {r: 3, y: 2, g: 1, o: 0};

  function esc(value) {
    return String(value === null || value === undefined ? "—" : value).replace(/[&<>"']/g, function (ch) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch];
    });
  }

  function ago(minutes) {
    if (minutes === null || minutes === undefined) return "never";
    if (minutes < 60) return minutes + " min ago";
    if (minutes < 48 * 60) return Math.round(minutes / 60) + " h ago";
    return Math.round(minutes / 1440) + " days ago";
  }

  function pointToLayer(feature, latlng) {
    var p = feature.properties;
    return L.circleMarker(latlng, {
      radius: 7, color: "#0b1220", weight: 1, fillOpacity: 0.95, fillColor: COLOURS[p.c] || COLOURS.o,
      className: "fleet-pin pin-" + p.c
    });
  }

  // A cluster shows its count, coloured by the worst pin inside it so trouble is visible zoomed out.
  function clusterToLayer(feature, latlng, index) {
    var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
    var worst = "o";
    for (var i = 0; i < leaves.length; i++) {
      var c = leaves[i].properties.c;
      if (RANK[c] > RANK[worst]) worst = c;
    }
    var n = feature.properties.point_count;
    var size = n < 100 ? 34 : n < 1000 ? 42 : 52;
    var icon = L.divIcon({
      html: "<div style='background:" + COLOURS[worst] + "'><span>" + n + "</span></div>",
      className: "fleet-cluster cluster-" + worst, iconSize: L.point(size, size)
    });
    return L.marker(latlng, {icon: icon});
  }

  function bindPopup(feature, layer) {
    var p = feature.properties;
    if (!p || p.cluster) return;
    var href = "/battery/" + encodeURIComponent(p.id);
    layer.bindPopup(
      "<div class='pin-popup'><b>" + esc(p.v) + "</b> <span class='pin-state pin-" + p.c + "'>" + LABELS[p.c] +
      "</span><br>Device " + esc(p.id) +
      "<br>SOC " + esc(p.s) + " %" + (p.ch ? " · charging" : "") +
      "<br>SOH " + (p.h === null || p.h === undefined ? "not measured" : esc(p.h) + " %") +
      "<br>Voltage " + esc(p.u) + " V<br>Last reading " + ago(p.m) +
      "<br><a href='" + href + "'>Open battery page →</a></div>"
    );
  }

  return {pointToLayer: pointToLayer, clusterToLayer: clusterToLayer, bindPopup: bindPopup};
})();

// Column-wise pins from the server (data/fleet.py map_pins) → the GeoJSON layer's data.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  fleetMap: {
    toGeojson: function (cols) {
      var features = [];
      if (cols && cols.id) {
        for (var i = 0; i < cols.id.length; i++) {
          features.push({
            type: "Feature", geometry: {type: "Point", coordinates: [cols.lng[i], cols.lat[i]]},
            properties: {id: cols.id[i], v: cols.v[i], c: cols.c[i], s: cols.s[i], h: cols.h[i], u: cols.u[i],
                         m: cols.m[i], ch: cols.ch[i]}
          });
        }
      }
      return {type: "FeatureCollection", features: features};
    }
  }
});
