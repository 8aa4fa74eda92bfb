import FerryIR

/// A model's graph as Graphviz DOT: a box per node (op type, name, key attributes), an ellipse
/// per graph input and output, edges labelled with the value's shape when known, each nested
/// graph (If branches, Loop and Scan bodies) as a cluster inside its node's. Weights are left
/// out: they would bury the structure. `ferry inspect --graph` lays it out with Graphviz.
public enum GraphPicture {
    /// Attributes worth showing on a node, when present.
    static let shownAttributes = [
        "kernel_shape", "strides", "pads", "dilations", "group", "axis", "axes", "perm", "mode", "transB", "alpha", "to",
        "activation"
    ]

    /// The DOT text of `model`; `shapes` labels the edges (value name -> shape text).
    public static func dot(_ model: Model, shapes: [String: String] = [:]) -> String {
        var lines = [
            "digraph \(quoted(model.graph.name.isEmpty ? "model" : model.graph.name)) {", "  rankdir=TB;",
            "  node [fontname=\"Helvetica\", fontsize=10];", "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];"
        ]
        var counter = 0
        func emit(_ g: Graph, prefix: String, indent: String, outer: [String: String]) {
            var producer = outer // value -> DOT node id
            for info in g.runtimeInputs {
                let id = "\(prefix)in\(counter)"
                counter += 1
                lines.append(
                    "\(indent)\(id) [shape=ellipse, style=filled, fillcolor=\"#e8f0fe\", label=\(quoted(info.name + "\n" + (info.type?.description ?? "")))];"
                )
                producer[info.name] = id
            }
            for n in g.nodes {
                let id = "\(prefix)n\(counter)"
                counter += 1
                var label = n.opType + (n.name.isEmpty ? "" : "\n" + n.name)
                for a in n.attributes where shownAttributes.contains(a.name) { label += "\n\(a.name)=\(brief(a.value))" }
                lines.append(
                    "\(indent)\(id) [shape=box, style=\"rounded,filled\", fillcolor=\"#fff4e0\", label=\(quoted(label))];")
                for input in n.inputs where !input.isEmpty {
                    guard let from = producer[input] else { continue } // an initializer
                    let shape = shapes[input].map { ", label=\(quoted($0))" } ?? ""
                    lines.append("\(indent)\(from) -> \(id) [tooltip=\(quoted(input))\(shape)];")
                }
                for (k, sub) in n.subgraphs.enumerated() {
                    lines.append("\(indent)subgraph cluster_\(id)_\(k) {")
                    lines.append(
                        "\(indent)  label=\(quoted("\(n.opType) \(n.name): \(sub.name)")); style=dashed; color=\"#888888\";")
                    emit(sub, prefix: "\(id)_\(k)_", indent: indent + "  ", outer: producer)
                    lines.append("\(indent)}")
                }
                for o in n.outputs where !o.isEmpty { producer[o] = id }
            }
            for out in g.outputs {
                let id = "\(prefix)out\(counter)"
                counter += 1
                lines.append(
                    "\(indent)\(id) [shape=ellipse, style=filled, fillcolor=\"#e6f4ea\", label=\(quoted(out.name + "\n" + (out.type?.description ?? "")))];"
                )
                if let from = producer[out.name] { lines.append("\(indent)\(from) -> \(id);") }
            }
        }
        emit(model.graph, prefix: "", indent: "  ", outer: [:])
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A DOT string literal.
    static func quoted(_ s: String) -> String {
        "\""
            + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private static func brief(_ v: AttributeValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .float(let f): return String(f)
        case .ints(let i): return "[" + i.map(String.init).joined(separator: ",") + "]"
        case .string(let s): return String(decoding: s.prefix(24), as: UTF8.self)
        default: return "…"
        }
    }

    /// A self-contained HTML page showing `svg` (Graphviz's drawing): drag to pan, wheel to zoom,
    /// click a nested graph's frame to fold or unfold it.
    public static func html(svg: String, title: String) -> String {
        let body = svg.range(of: "<svg").map { String(svg[$0.lowerBound...]) } ?? svg
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
            <style>html,body{margin:0;height:100%;overflow:hidden;font-family:Helvetica,sans-serif}
            #bar{position:fixed;top:0;left:0;right:0;padding:4px 8px;background:#f4f4f4;border-bottom:1px solid #ccc;font-size:12px;z-index:1}
            #view{position:absolute;top:26px;left:0;right:0;bottom:0;cursor:grab}
            #view svg{transform-origin:0 0}g.cluster{cursor:pointer}g.cluster.folded polygon{fill:#eeeeee}</style></head>
            <body><div id="bar">\(escapeHTML(title)) — drag to pan, wheel to zoom, click a frame to fold it; <a href="#" id="fit">fit</a></div>
            <div id="view">
            \(body)
            </div>
            <script>
            (function(){
              var view=document.getElementById('view'),svg=view.querySelector('svg'),x=0,y=0,k=1,drag=null;
              function apply(){svg.style.transform='translate('+x+'px,'+y+'px) scale('+k+')';}
              function size(){var b=svg.getBBox?svg.getBBox():{width:1,height:1};return [svg.width.baseVal.value||b.width,svg.height.baseVal.value||b.height];}
              function fit(){var s=size();k=Math.min(view.clientWidth/s[0],view.clientHeight/s[1],1);x=0;y=0;apply();}
              // the start: the whole width, from the top (a deep model stays readable)
              function start(){var s=size();k=Math.min(view.clientWidth/s[0],1);x=Math.max(0,(view.clientWidth-s[0]*k)/2);y=0;apply();}
              view.addEventListener('wheel',function(e){e.preventDefault();var f=e.deltaY<0?1.15:1/1.15;
                x=e.clientX-(e.clientX-x)*f;y=(e.clientY-26)-((e.clientY-26)-y)*f;k*=f;apply();},{passive:false});
              view.addEventListener('mousedown',function(e){drag={x:e.clientX-x,y:e.clientY-y};view.style.cursor='grabbing';});
              window.addEventListener('mouseup',function(){drag=null;view.style.cursor='grab';});
              window.addEventListener('mousemove',function(e){if(drag){x=e.clientX-drag.x;y=e.clientY-drag.y;apply();}});
              // a nested graph's nodes are named after its frame (cluster_ID -> ID_...): fold them with it
              Array.prototype.forEach.call(svg.querySelectorAll('g.cluster'),function(c){c.addEventListener('click',function(e){
                e.stopPropagation();var p=c.querySelector('title').textContent.replace(/^cluster_/,'')+'_';
                var hide=!c.classList.contains('folded');c.classList.toggle('folded');
                Array.prototype.forEach.call(svg.querySelectorAll('g.node,g.edge,g.cluster'),function(g){
                  var t=g.querySelector('title');if(g!==c&&t&&t.textContent.replace(/^cluster_/,'').indexOf(p)===0){g.style.display=hide?'none':'';}});});});
              document.getElementById('fit').addEventListener('click',function(e){e.preventDefault();fit();});
              start();
            })();
            </script></body></html>

            """
    }

    private static func escapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}
