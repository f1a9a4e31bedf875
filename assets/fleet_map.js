// The fleet map's browser side (components/fleet_map.py): pins, clusters, popups, the fit to the
// pins, and the offline basemap's styling.
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

  // The offline basemap (assets/geo/india.geojson), drawn in its own pane under the tiles.
  var BASEMAP_PANE = "fleet-basemap";
  var BASEMAP_STYLES = {
    country: {color: "#5b86c5", weight: 1.6, opacity: 0.9, fillColor: "#131c2e", fillOpacity: 1},
    "state-border": {color: "#4a6088", weight: 1, opacity: 0.9, fill: false}
  };
  // Labels appear from these zoom levels on, so the country view is not a wall of names.
  var LABEL_ZOOMS = [5, 6, 7, 9];

  // Leaflet applies the style to points too: they keep the look basemapPoint gave them.
  function basemapStyle(feature) {
    return BASEMAP_STYLES[feature.properties.kind] || {};
  }

  // Leaflet shows labels by zoom only through the map, so each map's container carries classes
  // basemap-zN (zoom N or closer, for N in LABEL_ZOOMS) that assets/map.css reads.
  function watchZoom(map) {
    if (!map || map._basemapZoomWatched) return;
    map._basemapZoomWatched = true;
    var mark = function () {
      var zoom = map.getZoom(), classes = map.getContainer().classList;
      LABEL_ZOOMS.forEach(function (z) { classes.toggle("basemap-z" + z, zoom >= z); });
    };
    map.on("zoomend", mark);
    mark();
  }

  function basemapPoint(feature, latlng) {
    var p = feature.properties;
    var city = p.kind === "city";
    var marker = L.circleMarker(latlng, {
      pane: BASEMAP_PANE, interactive: false, radius: city ? (p.rank === 1 ? 3.5 : 2.5) : 0,
      color: "#0b1220", weight: city ? 1 : 0, fillColor: "#cbd5e1", fillOpacity: city ? 0.9 : 0,
      className: "basemap-dot"
    });
    marker.bindTooltip(esc(p.name), {
      permanent: true, pane: BASEMAP_PANE, interactive: false,
      // Clear of a cluster sitting on the city, so its name stays readable beside the count.
      direction: city ? "right" : "center", offset: city ? [16, 0] : [0, 0],
      className: "basemap-label " + (city ? "basemap-city" : "basemap-state") + " rank-" + p.rank
    });
    marker.on("add", function () { watchZoom(marker._map); });
    return marker;
  }

  // Order-free fingerprint of the pins' device ids: a count and two commutative sums of a string hash.
  function idsKey(ids) {
    var sum = 0, mix = 0;
    for (var i = 0; i < ids.length; i++) {
      var s = String(ids[i]), h = 2166136261;
      for (var j = 0; j < s.length; j++) { h ^= s.charCodeAt(j); h = Math.imul(h, 16777619) >>> 0; }
      sum = (sum + h) >>> 0;
      mix ^= Math.imul(h, 2654435761) >>> 0;
    }
    return ids.length + ":" + sum + ":" + (mix >>> 0);
  }

  return {pointToLayer: pointToLayer, clusterToLayer: clusterToLayer, bindPopup: bindPopup,
          basemapStyle: basemapStyle, basemapPoint: basemapPoint, idsKey: idsKey};
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
    },

    // Fit the view to the pins when they first arrive and when a filter changes which devices
    // they are; never on a refresh (its Interval has ticked since the last pins), so a user's pan
    // and zoom survive. Returns [the map's viewport, what was fitted and when].
    fitView: function (cols, tick, memo) {
      var noUpdate = window.dash_clientside.no_update;
      var ids = cols && cols.id ? cols.id : [];
      tick = tick || 0;
      memo = memo || {};
      if (!ids.length) return [noUpdate, Object.assign({}, memo, {tick: tick})];
      var key = window.fleetMap.idsKey(ids);
      var next = {key: key, tick: tick, fitted: true};
      var byFilter = key !== memo.key && tick === memo.tick;
      if (memo.fitted && !byFilter) return [noUpdate, next];
      var south = 90, west = 180, north = -90, east = -180;
      for (var i = 0; i < ids.length; i++) {
        var lat = cols.lat[i], lng = cols.lng[i];
        if (lat === null || lng === null || lat === undefined || lng === undefined) continue;
        if (lat < south) south = lat; if (lat > north) north = lat;
        if (lng < west) west = lng; if (lng > east) east = lng;
      }
      if (south > north) return [noUpdate, next];
      return [{bounds: [[south, west], [north, east]], transition: "fitBounds",
               options: {padding: [40, 40], maxZoom: 12}}, next];
    }
  }
});
