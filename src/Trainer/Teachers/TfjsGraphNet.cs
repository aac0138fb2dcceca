using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using HeadTracking.Trainer.Onnx;
using TorchSharp;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HeadTracking.Trainer.Teachers;

/// <summary>
/// A TensorFlow.js graph model as a TorchSharp module that also writes itself as ONNX. Its input
/// and outputs are the graph's own (NHWC, as TensorFlow has them); inside, 4-D tensors flow as NCHW
/// (what TorchSharp's and ONNX's convolutions take), with the layout of every value decided once
/// when the graph is read, and converted back to NHWC before a reshape, a concat over another
/// layout, or an output. Constants become parameters in TorchSharp's layout (filters OIHW, PReLU
/// slopes per channel), named after their TF node, so the module can be fine-tuned or exported.
/// Supported ops: those of MediaPipe's face mesh, iris and BlazeFace graphs (convolutions, fused or
/// not, depthwise convolutions, pooling, padding, PReLU/ReLU/ReLU6/sigmoid/tanh, add/sub/mul,
/// reshape, concat, identity); any other op is refused with its name and node.
/// </summary>
internal sealed class TfjsGraphNet : torch.nn.Module<Tensor, Tensor[]>, IOnnxExportable
{
    private static readonly HashSet<string> s_elementwise = ["AddV2", "Add", "Sub", "Mul", "Maximum", "Minimum"];
    private static readonly HashSet<string> s_unary = ["Relu", "Relu6", "Sigmoid", "Tanh", "Identity"];

    private readonly TfjsGraph _graph;
    private readonly List<Step> _steps = [];
    private readonly Dictionary<string, Named> _named = new(StringComparer.Ordinal);
    private readonly int[] _outputs;

    public TfjsGraphNet(TfjsGraph graph)
        : base(nameof(TfjsGraphNet))
    {
        Training.TorchSettings.SkipNnpack(); // it runs single images without gradients: no NNPACK warnings
        _graph = graph;
        Dictionary<string, TfjsNode> byName = graph.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((string _, string node) in graph.Outputs)
        {
            Visit(node, byName, index, []);
        }

        _outputs = [.. graph.Outputs.Select(o => index[o.Node])];
        OutputNames = [.. graph.Outputs.Select(o => o.Name)];
    }

    /// <summary>The signature's output names, in the order <see cref="forward"/> returns them.</summary>
    public string[] OutputNames { get; }

    /// <summary>The input shape, NHWC (-1 where dynamic).</summary>
    public long[] InputShape => _graph.Input.Shape;

    /// <summary>Reads a model.json (and its shards) into a module.</summary>
    public static TfjsGraphNet Load(string modelJson) => new(TfjsGraph.Load(modelJson));

    public override Tensor[] forward(Tensor input)
    {
        // A graph of many small ops makes many temporary Scalars: no collection while they are in use.
        using var pause = Training.GcPause.Begin();
        using var scope = NewDisposeScope();
        var values = new Tensor[_steps.Count];
        foreach (Step s in _steps)
        {
            // Constants are read only through the parameters their consumers made of them.
            if (s.Node.Op != "Const")
            {
                values[s.Index] = Run(s, values, input);
            }
        }

        Tensor[] outputs = [.. _outputs.Select(i => ToNhwc(_steps[i], values[i]).MoveToOuterDisposeScope())];
        return outputs;
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        // SAME padding depends on the input size: one forward pass at the graph's own shape
        // (batch 1) records every step's pads, which ONNX needs as numbers.
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            long[] shape = [.. InputShape.Select(d => d < 0 ? 1 : d)];
            forward(zeros(shape));
        }

        var names = new string[_steps.Count];
        foreach (Step s in _steps)
        {
            names[s.Index] = Emit(g, s, names, inputs[0]);
        }

        return [.. _outputs.Select(i => _steps[i].Nchw && _steps[i].Rank == 4 ? g.Node("Transpose", [names[i]], Ints("perm", 0L, 2L, 3L, 1L)) : names[i])];
    }

    private int Visit(string name, Dictionary<string, TfjsNode> byName, Dictionary<string, int> index, HashSet<string> path)
    {
        if (index.TryGetValue(name, out int done))
        {
            return done;
        }

        if (!byName.TryGetValue(name, out TfjsNode? node))
        {
            throw new InvalidDataException($"{_graph.Path}: node '{name}' is read but not defined");
        }

        if (!path.Add(name))
        {
            throw new InvalidDataException($"{_graph.Path}: the graph has a cycle through '{name}'");
        }

        var step = new Step(node);
        if (node.Op == "Const")
        {
            step.Weight = _graph.Weights.TryGetValue(name, out TfjsWeight? w) ? w
                : throw new InvalidDataException($"{_graph.Path}: constant '{name}' has no entry in weightsManifest");
        }
        else
        {
            step.Inputs = [.. node.Inputs.Select(i => Visit(TfjsGraph.StripIndex(i, _graph.Path), byName, index, path))];
        }

        path.Remove(name);
        step.Index = _steps.Count;
        _steps.Add(step);
        index[name] = step.Index;
        Prepare(step);
        return step.Index;
    }

    /// <summary>Checks a step, decides its output layout and rank, and turns the constants it
    /// reads into parameters in the layout it uses them in.</summary>
    private void Prepare(Step s)
    {
        TfjsNode n = s.Node;
        Step In(int i) => _steps[s.Inputs[i]];
        switch (n.Op)
        {
            case "Const":
                s.Rank = s.Weight!.Shape.Length;
                break;
            case "Placeholder":
                s.Rank = _graph.Input.Shape.Length;
                s.Nchw = s.Rank == 4;
                break;
            case "_FusedConv2D":
            case "Conv2D":
            case "DepthwiseConv2dNative":
            case "FusedDepthwiseConv2dNative":
                PrepareConv(s);
                break;
            case "MaxPool":
            case "AvgPool":
                Require4D(s, In(0));
                s.Kernel = Spatial(n, n.Ints("ksize"), "ksize");
                s.Stride = Spatial(n, n.Ints("strides"), "strides");
                s.Dilation = [1, 1];
                s.Padding = n.String("padding") ?? "VALID";
                Nchw(s);
                break;
            case "Pad":
            case "PadV2":
                {
                    int[] p = ConstInts(s, 1);
                    if (p.Length != In(0).Rank * 2)
                    {
                        throw Bad(s, $"paddings hold {p.Length} values for a rank-{In(0).Rank} input");
                    }

                    s.Ints = [.. p.Select(v => (long)v)];
                    s.Value = n.Op == "PadV2" ? ConstFloats(s, 2)[0] : 0;
                    s.Rank = In(0).Rank;
                    s.Nchw = In(0).Nchw;
                    break;
                }

            case "Reshape":
                s.Ints = [.. ConstInts(s, 1).Select(v => (long)v)];
                s.Rank = s.Ints.Length;
                break;
            case "ConcatV2":
                {
                    int count = s.Inputs.Length - 1;
                    int axis = ConstInts(s, count)[0];
                    s.Rank = In(0).Rank;
                    s.Axis = axis < 0 ? axis + s.Rank : axis;
                    s.Nchw = Enumerable.Range(0, count).All(i => In(i).Nchw && In(i).Rank == 4);
                    break;
                }

            case "Prelu":
                s.Rank = In(0).Rank;
                s.Nchw = In(0).Nchw;
                s.Alpha = Param(In(1), s.Nchw ? ChannelsNchw(In(1).Weight!) : Raw(In(1).Weight!));
                break;
            case var op when s_unary.Contains(op):
                s.Rank = In(0).Rank;
                s.Nchw = In(0).Nchw;
                break;
            case var op when s_elementwise.Contains(op):
                {
                    // Layout follows the non-constant operand(s); a 4-D NCHW operand turns the
                    // other's (TF-layout) constant into NCHW for broadcasting.
                    Step a = In(0), b = In(1);
                    s.Nchw = (a.Nchw && a.Rank == 4 && (b.Node.Op == "Const" || (b.Nchw && b.Rank == 4)))
                        || (b.Nchw && b.Rank == 4 && a.Node.Op == "Const");
                    s.Rank = Math.Max(a.Rank, b.Rank);
                    for (int i = 0; i < 2; i++)
                    {
                        Step c = In(i);
                        if (c.Node.Op == "Const")
                        {
                            s.Operands[i] = Param(c, s.Nchw ? BroadcastNchw(c.Weight!) : Raw(c.Weight!));
                        }
                    }

                    break;
                }

            default:
                throw new NotSupportedException($"{_graph.Path}: node '{n.Name}' is a {n.Op}, an op the TF.js importer does not support " +
                    "(supported: convolutions, depthwise convolutions, MaxPool, AvgPool, Pad, Prelu, Relu, Relu6, Sigmoid, Tanh, Add, Sub, Mul, Maximum, Minimum, Reshape, ConcatV2, Identity)");
        }
    }

    private void PrepareConv(Step s)
    {
        TfjsNode n = s.Node;
        Step x = _steps[s.Inputs[0]];
        Require4D(s, x);
        if ((n.String("data_format") ?? "NHWC") != "NHWC")
        {
            throw Bad(s, $"data_format {n.String("data_format")}; only NHWC");
        }

        TfjsWeight filter = ConstWeight(s, 1);
        if (filter.Shape.Length != 4)
        {
            throw Bad(s, $"filter of rank {filter.Shape.Length}");
        }

        bool depthwise = n.Op.Contains("Depthwise", StringComparison.Ordinal);
        long kh = filter.Shape[0], kw = filter.Shape[1], cin = filter.Shape[2], cout = filter.Shape[3];
        s.Kernel = [kh, kw];
        s.Stride = Spatial(n, n.Ints("strides"), "strides");
        long[] dilation = n.Ints("dilations");
        s.Dilation = dilation.Length == 0 ? [1, 1] : Spatial(n, dilation, "dilations");
        s.Padding = n.String("padding") ?? "VALID";
        if (s.Padding == "EXPLICIT")
        {
            long[] e = n.Ints("explicit_paddings");
            s.Pads = e.Length == 8 ? [e[2], e[4], e[3], e[5]] : throw Bad(s, $"explicit_paddings of {e.Length} values");
        }

        using (no_grad())
        {
            Tensor w = tensor(filter.Floats!, filter.Shape);
            // TF filters are [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); torch's are
            // [out, in/groups, kh, kw].
            Tensor oihw = depthwise ? w.permute(2, 3, 0, 1).reshape(cin * cout, 1, kh, kw) : w.permute(3, 2, 0, 1);
            s.Filter = Param(_steps[s.Inputs[1]], oihw.contiguous());
            s.Groups = depthwise ? cin : 1;
        }

        string[] fused = n.Op.StartsWith("Fused", StringComparison.Ordinal) || n.Op.StartsWith('_') ? n.Strings("fused_ops") : [];
        int arg = 2;
        foreach (string f in fused)
        {
            switch (f)
            {
                case "BiasAdd":
                    s.Bias = Param(_steps[s.Inputs[arg++]], Raw(ConstWeight(s, arg - 1)).reshape(-1));
                    break;
                case "Prelu":
                    s.Activation = "Prelu";
                    s.Alpha = Param(_steps[s.Inputs[arg]], ChannelsNchw(ConstWeight(s, arg)));
                    arg++;
                    break;
                case "Relu" or "Relu6" or "Sigmoid" or "Tanh":
                    s.Activation = f;
                    break;
                case "LeakyRelu":
                    s.Activation = f;
                    s.Value = n.Float("leakyrelu_alpha", 0.2f);
                    break;
                default:
                    throw Bad(s, $"fused op '{f}' (supported: BiasAdd, Prelu, Relu, Relu6, Sigmoid, Tanh, LeakyRelu)");
            }
        }

        Nchw(s);
    }

    private Tensor Run(Step s, Tensor[] v, Tensor input)
    {
        TfjsNode n = s.Node;
        Tensor X(int i) => v[s.Inputs[i]];
        switch (n.Op)
        {
            case "Placeholder":
                return s.Nchw ? input.permute(0, 3, 1, 2) : input;
            case "_FusedConv2D" or "Conv2D" or "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative":
                {
                    Tensor x = PadSpatial(s, X(0), 0);
                    Tensor y = F.conv2d(x, s.Filter!.Value, s.Bias?.Value, strides: s.Stride, padding: [0, 0], dilation: s.Dilation, groups: s.Groups);
                    return Activate(s, y);
                }

            case "MaxPool":
                return F.max_pool2d(PadSpatial(s, X(0), double.NegativeInfinity), s.Kernel!, s.Stride!);
            case "AvgPool":
                {
                    if (s.Padding == "SAME" && (s.Pads ??= SamePads(s, X(0))).Any(p => p != 0))
                    {
                        throw Bad(s, "AvgPool with SAME padding that pads (TF averages over the valid pixels only)");
                    }

                    return F.avg_pool2d(X(0), s.Kernel!, s.Stride!);
                }

            case "Pad" or "PadV2":
                {
                    long[] p = TorchPads(s);
                    return F.pad(X(0), p, PaddingModes.Constant, s.Value);
                }

            case "Reshape":
                return ToNhwc(_steps[s.Inputs[0]], X(0)).reshape(s.Ints!);
            case "ConcatV2":
                {
                    int count = s.Inputs.Length - 1;
                    Tensor[] parts = [.. Enumerable.Range(0, count).Select(i => s.Nchw ? X(i) : ToNhwc(_steps[s.Inputs[i]], X(i)))];
                    return cat(parts, s.Nchw ? NchwAxis(s.Axis) : s.Axis);
                }

            case "Prelu":
                return X(0).clamp_min(0) + (s.Alpha!.Value * X(0).clamp_max(0));
            case "Relu":
                return F.relu(X(0));
            case "Relu6":
                return X(0).clamp(0, 6);
            case "Sigmoid":
                return X(0).sigmoid();
            case "Tanh":
                return X(0).tanh();
            case "Identity":
                return X(0).alias();
            default:
                {
                    Tensor a = Operand(s, 0, v), b = Operand(s, 1, v);
                    return n.Op switch
                    {
                        "AddV2" or "Add" => a + b,
                        "Sub" => a - b,
                        "Mul" => a * b,
                        "Maximum" => maximum(a, b),
                        _ => minimum(a, b),
                    };
                }
        }
    }

    private string Emit(OnnxGraphBuilder g, Step s, string[] v, string input)
    {
        TfjsNode n = s.Node;
        string X(int i) => v[s.Inputs[i]];
        switch (n.Op)
        {
            case "Const":
                return "";
            case "Placeholder":
                return s.Nchw ? g.Node("Transpose", [input], Ints("perm", 0L, 3L, 1L, 2L)) : input;
            case "_FusedConv2D" or "Conv2D" or "DepthwiseConv2dNative" or "FusedDepthwiseConv2dNative":
                {
                    string[] ins = s.Bias is null ? [X(0), Name(g, s.Filter!)] : [X(0), Name(g, s.Filter!), Name(g, s.Bias)];
                    string y = g.Node("Conv", ins, Ints("kernel_shape", s.Kernel!), Ints("strides", s.Stride!),
                        Ints("pads", OnnxPads(s)), Ints("dilations", s.Dilation!), Attr("group", s.Groups));
                    return EmitActivation(g, s, y);
                }

            case "MaxPool":
                return g.Node("MaxPool", [X(0)], Ints("kernel_shape", s.Kernel!), Ints("strides", s.Stride!), Ints("pads", OnnxPads(s)));
            case "AvgPool":
                return g.Node("AveragePool", [X(0)], Ints("kernel_shape", s.Kernel!), Ints("strides", s.Stride!));
            case "Pad" or "PadV2":
                {
                    // TF: [[before, after] per dim] in TF order; ONNX: all befores, then all afters, in the value's layout.
                    int r = s.Rank;
                    long[] order = s.Nchw && r == 4 ? [0, 3, 1, 2] : [.. Enumerable.Range(0, r).Select(i => (long)i)];
                    long[] pads = [.. order.Select(d => s.Ints![d * 2]), .. order.Select(d => s.Ints![(d * 2) + 1])];
                    return g.Node("Pad", [X(0), g.ConstantInt64(pads), g.ConstantFloat([], (float)s.Value)], Attr("mode", "constant"));
                }

            case "Reshape":
                return g.Node("Reshape", [EmitToNhwc(g, _steps[s.Inputs[0]], X(0)), g.ConstantInt64(s.Ints!)]);
            case "ConcatV2":
                {
                    int count = s.Inputs.Length - 1;
                    string[] parts = [.. Enumerable.Range(0, count).Select(i => s.Nchw ? X(i) : EmitToNhwc(g, _steps[s.Inputs[i]], X(i)))];
                    return g.Node("Concat", parts, Attr("axis", (long)(s.Nchw ? NchwAxis(s.Axis) : s.Axis)));
                }

            case "Prelu":
                return g.Node("PRelu", [X(0), Name(g, s.Alpha!)]);
            case "Relu":
                return g.Node("Relu", [X(0)]);
            case "Relu6":
                return g.Node("Clip", [X(0), g.ConstantFloat([], 0f), g.ConstantFloat([], 6f)]);
            case "Sigmoid":
                return g.Node("Sigmoid", [X(0)]);
            case "Tanh":
                return g.Node("Tanh", [X(0)]);
            case "Identity":
                return X(0);
            default:
                {
                    string a = s.Operands[0] is { } pa ? Name(g, pa) : X(0);
                    string b = s.Operands[1] is { } pb ? Name(g, pb) : X(1);
                    string op = n.Op switch { "AddV2" or "Add" => "Add", "Sub" => "Sub", "Mul" => "Mul", "Maximum" => "Max", _ => "Min" };
                    return g.Node(op, [a, b]);
                }
        }
    }

    private static Tensor Activate(Step s, Tensor y) => s.Activation switch
    {
        "Prelu" => y.clamp_min(0) + (s.Alpha!.Value * y.clamp_max(0)),
        "Relu" => F.relu(y),
        "Relu6" => y.clamp(0, 6),
        "Sigmoid" => y.sigmoid(),
        "Tanh" => y.tanh(),
        "LeakyRelu" => F.leaky_relu(y, s.Value),
        _ => y,
    };

    private string EmitActivation(OnnxGraphBuilder g, Step s, string y) => s.Activation switch
    {
        "Prelu" => g.Node("PRelu", [y, Name(g, s.Alpha!)]),
        "Relu" => g.Node("Relu", [y]),
        "Relu6" => g.Node("Clip", [y, g.ConstantFloat([], 0f), g.ConstantFloat([], 6f)]),
        "Sigmoid" => g.Node("Sigmoid", [y]),
        "Tanh" => g.Node("Tanh", [y]),
        "LeakyRelu" => g.Node("LeakyRelu", [y], Attr("alpha", (float)s.Value)),
        _ => y,
    };

    /// <summary>Zero (or -inf) padding before a conv or pool: SAME as TensorFlow computes it
    /// (the odd pixel after), EXPLICIT as given, VALID none. Records the pads for the ONNX export.</summary>
    private static Tensor PadSpatial(Step s, Tensor x, double value)
    {
        if (s.Padding == "SAME")
        {
            s.Pads = SamePads(s, x);
        }
        else if (s.Padding == "VALID")
        {
            s.Pads = [0, 0, 0, 0];
        }

        long[] p = s.Pads!;
        return p.All(v => v == 0) ? x : F.pad(x, [p[1], p[3], p[0], p[2]], PaddingModes.Constant, value);
    }

    /// <summary>TensorFlow's SAME padding (top, left, bottom, right) for an NCHW input.</summary>
    private static long[] SamePads(Step s, Tensor x)
    {
        long[] pads = new long[4];
        for (int d = 0; d < 2; d++)
        {
            long size = x.shape[2 + d], k = ((s.Kernel![d] - 1) * s.Dilation![d]) + 1, stride = s.Stride![d];
            long output = (size + stride - 1) / stride;
            long total = Math.Max(((output - 1) * stride) + k - size, 0);
            pads[d] = total / 2;
            pads[d + 2] = total - (total / 2);
        }

        return pads;
    }

    private static long[] OnnxPads(Step s) => s.Pads ?? throw new InvalidOperationException("pads are known only after a forward pass");

    /// <summary>TF paddings [[before, after] per TF dim] → torch's pad list (last dim first) in the value's layout.</summary>
    private static long[] TorchPads(Step s)
    {
        int r = s.Rank;
        long[] order = s.Nchw && r == 4 ? [0, 3, 1, 2] : [.. Enumerable.Range(0, r).Select(i => (long)i)];
        var p = new List<long>();
        for (int d = r - 1; d >= 0; d--)
        {
            p.Add(s.Ints![order[d] * 2]);
            p.Add(s.Ints![(order[d] * 2) + 1]);
        }

        return [.. p];
    }

    private static Tensor ToNhwc(Step s, Tensor x) => s.Nchw && s.Rank == 4 ? x.permute(0, 2, 3, 1) : x;

    private static string EmitToNhwc(OnnxGraphBuilder g, Step s, string x) =>
        s.Nchw && s.Rank == 4 ? g.Node("Transpose", [x], Ints("perm", 0L, 2L, 3L, 1L)) : x;

    private static long NchwAxis(int tfAxis) => tfAxis switch { 0 => 0, 1 => 2, 2 => 3, _ => 1 };

    private Tensor Operand(Step s, int i, Tensor[] v)
    {
        if (s.Operands[i] is { } p)
        {
            return p.Value;
        }

        Step input = _steps[s.Inputs[i]];
        return s.Nchw ? v[s.Inputs[i]] : ToNhwc(input, v[s.Inputs[i]]);
    }

    private static string Name(OnnxGraphBuilder g, Named p) => g.Parameter(p.Value, p.Name);

    private Named Param(Step constant, Tensor value)
    {
        string name = Sanitize(constant.Node.Name);
        if (_named.TryGetValue(name, out Named? existing))
        {
            // A constant read by two ops in different layouts gets a second parameter.
            if (existing.Value.shape.SequenceEqual(value.shape) && existing.Value.allclose(value))
            {
                return existing;
            }

            name += "_" + _named.Count;
        }

        var p = new TorchSharp.Modules.Parameter(value.detach().clone(), requires_grad: true);
        register_parameter(name, p);
        var named = new Named(p, name);
        _named[name] = named;
        return named;
    }

    /// <summary>A TF node name as a parameter name: the converter's "StatefulPartitionedCall/"
    /// prefix dropped, every character but letters, digits and '_' turned into '_'.</summary>
    private static string Sanitize(string name)
    {
        const string prefix = "StatefulPartitionedCall/";
        string n = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
        var b = new StringBuilder(n.Length);
        foreach (char c in n)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return b.ToString();
    }

    private static Tensor Raw(TfjsWeight w) => tensor(w.Floats ?? throw new InvalidDataException($"constant '{w.Name}' is int32 where a float is read"), w.Shape);

    /// <summary>A per-channel constant ([C], [1,1,C] or [1,1,1,C]) as [1,C,1,1] for NCHW broadcasting.</summary>
    private static Tensor ChannelsNchw(TfjsWeight w) => Raw(w).reshape(1, -1, 1, 1);

    /// <summary>A TF-layout constant of rank ≤ 4, broadcast against an NHWC 4-D value, in NCHW.</summary>
    private static Tensor BroadcastNchw(TfjsWeight w)
    {
        long[] shape = [.. Enumerable.Repeat(1L, 4 - w.Shape.Length), .. w.Shape];
        return Raw(w).reshape(shape).permute(0, 3, 1, 2).contiguous();
    }

    private TfjsWeight ConstWeight(Step s, int input)
    {
        Step c = _steps[s.Inputs.Length > input ? s.Inputs[input] : throw Bad(s, $"input {input} is missing")];
        return c.Node.Op == "Const" ? c.Weight! : throw Bad(s, $"input {input} ('{c.Node.Name}', a {c.Node.Op}) is not a constant; only constant weights, shapes and paddings are supported");
    }

    private int[] ConstInts(Step s, int input) =>
        ConstWeight(s, input).Ints ?? throw Bad(s, $"input {input} is a float constant where int32 is expected");

    private float[] ConstFloats(Step s, int input) =>
        ConstWeight(s, input).Floats ?? throw Bad(s, $"input {input} is an int32 constant where a float is expected");

    private void Require4D(Step s, Step input)
    {
        if (input.Rank != 4 || !input.Nchw)
        {
            throw Bad(s, $"input '{input.Node.Name}' is not a 4-D image tensor");
        }
    }

    private static void Nchw(Step s)
    {
        s.Rank = 4;
        s.Nchw = true;
    }

    private static long[] Spatial(TfjsNode n, long[] nhwc, string attr) =>
        nhwc.Length == 4 && nhwc[0] == 1 && nhwc[3] == 1 ? [nhwc[1], nhwc[2]]
        : throw new InvalidDataException($"node '{n.Name}' ({n.Op}): attribute {attr} [{string.Join(", ", nhwc)}] is not [1, h, w, 1]");

    private InvalidDataException Bad(Step s, string why) => new($"{_graph.Path}: node '{s.Node.Name}' ({s.Node.Op}): {why}");

    /// <summary>A parameter with the name it is registered (and exported) under.</summary>
    private sealed record Named(TorchSharp.Modules.Parameter Value, string Name);

    /// <summary>One node as the module runs it: inputs by step index, layout, and what
    /// <see cref="Prepare"/> resolved (parameters, strides, pads...).</summary>
    private sealed class Step(TfjsNode node)
    {
        public TfjsNode Node { get; } = node;

        public int Index { get; set; }

        public int[] Inputs { get; set; } = [];

        public TfjsWeight? Weight { get; set; }

        /// <summary>True for a 4-D value held as NCHW (TF sees it as NHWC).</summary>
        public bool Nchw { get; set; }

        public int Rank { get; set; }

        public Named? Filter { get; set; }

        public Named? Bias { get; set; }

        public Named? Alpha { get; set; }

        public Named?[] Operands { get; } = new Named?[2];

        public long Groups { get; set; } = 1;

        public long[]? Kernel { get; set; }

        public long[]? Stride { get; set; }

        public long[]? Dilation { get; set; }

        public string Padding { get; set; } = "VALID";

        /// <summary>Spatial pads (top, left, bottom, right), from the last forward pass for SAME.</summary>
        public long[]? Pads { get; set; }

        public string? Activation { get; set; }

        public long[]? Ints { get; set; }

        public double Value { get; set; }

        public int Axis { get; set; }
    }
}
