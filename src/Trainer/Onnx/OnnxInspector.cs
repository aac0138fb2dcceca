using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Onnx.Proto;

namespace HeadTracking.Trainer.Onnx;

/// <summary>Describes an ONNX file for people: inputs, outputs, manifest, op counts, parameters.</summary>
internal static class OnnxInspector
{
    public static void Print(string path, TextWriter output, bool nodes = false)
    {
        ModelProto model = OnnxFile.Load(path);
        GraphProto g = model.Graph;
        output.WriteLine($"{path}");
        output.WriteLine($"  producer  {model.ProducerName} {model.ProducerVersion}, IR {model.IrVersion}, opsets " +
            string.Join(", ", model.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}")));
        var initializers = g.Initializer.Select(t => t.Name).ToHashSet();
        foreach (ValueInfoProto v in g.Input.Where(v => !initializers.Contains(v.Name)))
        {
            output.WriteLine($"  input     {v.Name} {Describe(v.Type)}");
        }

        foreach (ValueInfoProto v in g.Output)
        {
            output.WriteLine($"  output    {v.Name} {Describe(v.Type)}");
        }

        long parameters = g.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "  params    {0:N0} in {1} initializers", parameters, g.Initializer.Count));
        output.WriteLine("  ops       " + string.Join(", ", g.Node.GroupBy(n => n.OpType).OrderByDescending(x => x.Count()).ThenBy(x => x.Key, StringComparer.Ordinal)
            .Select(x => $"{x.Key} {x.Count()}")));

        foreach (StringStringEntryProto kv in model.MetadataProps)
        {
            output.WriteLine($"  metadata  {kv.Key}:");
            output.WriteLine(Indent(PrettyJson(kv.Value), "    "));
        }

        if (nodes)
        {
            var shapes = g.Initializer.ToDictionary(t => t.Name, t => $"[{string.Join(",", t.Dims)}]");
            foreach (NodeProto n in g.Node)
            {
                string attrs = string.Join(" ", n.Attribute.Select(a => $"{a.Name}={AttributeText(a)}"));
                string inputs = string.Join(", ", n.Input.Select(i => shapes.TryGetValue(i, out string? s) ? $"{i}{s}" : i));
                output.WriteLine($"  node      {n.OpType}({inputs}) -> {string.Join(", ", n.Output)} {attrs}");
            }
        }
    }

    private static string Describe(TypeProto type)
    {
        if (type?.TensorType == null)
        {
            return "(not a tensor)";
        }

        string elem = ((TensorProto.Types.DataType)type.TensorType.ElemType).ToString().ToLowerInvariant();
        string dims = type.TensorType.Shape == null ? "?" : string.Join(",", type.TensorType.Shape.Dim.Select(d =>
            d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam));
        return $"{elem}[{dims}]";
    }

    private static string AttributeText(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => a.I.ToString(CultureInfo.InvariantCulture),
        AttributeProto.Types.AttributeType.Float => a.F.ToString(CultureInfo.InvariantCulture),
        AttributeProto.Types.AttributeType.Ints => $"[{string.Join(",", a.Ints)}]",
        AttributeProto.Types.AttributeType.Floats => $"[{string.Join(",", a.Floats)}]",
        AttributeProto.Types.AttributeType.String => a.S.ToStringUtf8(),
        AttributeProto.Types.AttributeType.Tensor => $"tensor[{string.Join(",", a.T.Dims)}]",
        _ => a.Type.ToString(),
    };

    private static string PrettyJson(string text)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            return JsonSerializer.Serialize(doc.RootElement, s_indented);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static readonly JsonSerializerOptions s_indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Indent(string text, string prefix) =>
        string.Join(Environment.NewLine, text.Split('\n').Select(l => prefix + l.TrimEnd('\r')));
}
