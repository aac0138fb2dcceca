using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace HeadTracking.Trainer.Teachers;

/// <summary>One node of a TensorFlow.js graph model: a TensorFlow op with its inputs (node names,
/// control inputs left out) and attributes.</summary>
internal sealed class TfjsNode(string name, string op, string[] inputs, JsonElement attr)
{
    public string Name { get; } = name;

    public string Op { get; } = op;

    public string[] Inputs { get; } = inputs;

    /// <summary>A string attribute (TF.js stores them base64-encoded); null when absent.</summary>
    public string? String(string key) =>
        attr.ValueKind == JsonValueKind.Object && attr.TryGetProperty(key, out JsonElement a) && a.TryGetProperty("s", out JsonElement s)
            ? Encoding.UTF8.GetString(Convert.FromBase64String(s.GetString()!))
            : null;

    /// <summary>A list-of-strings attribute (fused_ops), decoded; empty when absent.</summary>
    public string[] Strings(string key) =>
        List(key, "s").Select(s => Encoding.UTF8.GetString(Convert.FromBase64String(s.GetString()!))).ToArray();

    /// <summary>A list-of-ints attribute (strides, ksize, dilations); empty when absent.</summary>
    public long[] Ints(string key) => List(key, "i").Select(ParseInt).ToArray();

    /// <summary>An int attribute; <paramref name="fallback"/> when absent.</summary>
    public long Int(string key, long fallback) =>
        attr.ValueKind == JsonValueKind.Object && attr.TryGetProperty(key, out JsonElement a) && a.TryGetProperty("i", out JsonElement i) ? ParseInt(i) : fallback;

    /// <summary>A float attribute; <paramref name="fallback"/> when absent.</summary>
    public float Float(string key, float fallback) =>
        attr.ValueKind == JsonValueKind.Object && attr.TryGetProperty(key, out JsonElement a) && a.TryGetProperty("f", out JsonElement f) ? f.GetSingle() : fallback;

    /// <summary>The shape of a Placeholder (-1 for unknown dimensions), or null.</summary>
    public long[]? PlaceholderShape()
    {
        if (attr.ValueKind != JsonValueKind.Object || !attr.TryGetProperty("shape", out JsonElement a) || !a.TryGetProperty("shape", out JsonElement s))
        {
            return null;
        }

        return s.TryGetProperty("dim", out JsonElement dims) ? dims.EnumerateArray().Select(d => d.TryGetProperty("size", out JsonElement v) ? ParseInt(v) : -1).ToArray() : [];
    }

    private IEnumerable<JsonElement> List(string key, string kind) =>
        attr.ValueKind == JsonValueKind.Object && attr.TryGetProperty(key, out JsonElement a) && a.TryGetProperty("list", out JsonElement l) && l.TryGetProperty(kind, out JsonElement items)
            ? items.EnumerateArray()
            : [];

    // TF.js writes int64 attributes as JSON strings ("2"), int32 ones sometimes as numbers.
    private static long ParseInt(JsonElement e) => e.ValueKind == JsonValueKind.String ? long.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : e.GetInt64();
}

/// <summary>A constant of the graph: float values (dequantised) or int32 values, with its shape.</summary>
internal sealed record TfjsWeight(string Name, long[] Shape, float[]? Floats, int[]? Ints)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A TensorFlow.js graph model as written by tensorflowjs_converter: <c>model.json</c> (the
/// GraphDef as JSON in <c>modelTopology</c>, a <c>weightsManifest</c> naming the binary shards and
/// every constant's name, shape, dtype and quantisation) and the shards, read in manifest order.
/// Weights stored as float16, or as uint8/uint16 with a scale and minimum, are dequantised to
/// float32 on load, the way TF.js itself does.
/// </summary>
internal sealed class TfjsGraph
{
    private TfjsGraph(string path, List<TfjsNode> nodes, Dictionary<string, TfjsWeight> weights,
        (string Name, string Node)[] outputs, (string Node, long[] Shape) input)
    {
        Path = path;
        Nodes = nodes;
        Weights = weights;
        Outputs = outputs;
        Input = input;
    }

    /// <summary>The model.json this graph came from.</summary>
    public string Path { get; }

    /// <summary>Nodes in file order (TF.js writes them topologically sorted; <see cref="TfjsGraphNet"/> sorts anyway).</summary>
    public IReadOnlyList<TfjsNode> Nodes { get; }

    /// <summary>Every constant, by node name.</summary>
    public IReadOnlyDictionary<string, TfjsWeight> Weights { get; }

    /// <summary>The signature's outputs (its key, e.g. "output_mesh", and the node they read), in the file's order.</summary>
    public (string Name, string Node)[] Outputs { get; }

    /// <summary>The one Placeholder and its shape (-1 where dynamic).</summary>
    public (string Node, long[] Shape) Input { get; }

    /// <summary>Reads a graph model.</summary>
    /// <exception cref="FileNotFoundException">model.json or a weight shard is missing.</exception>
    /// <exception cref="InvalidDataException">Not a TF.js graph model, a shard too short, an
    /// unknown weight dtype, or not exactly one input; the message names the file and the field.</exception>
    public static TfjsGraph Load(string modelJson)
    {
        if (!File.Exists(modelJson))
        {
            throw new FileNotFoundException($"TF.js model not found: {modelJson}", modelJson);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(modelJson));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{modelJson}: not JSON: {e.Message}", e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (!root.TryGetProperty("format", out JsonElement format) || format.GetString() != "graph-model")
            {
                throw new InvalidDataException($"{modelJson}: 'format' is not \"graph-model\" (a TF.js layers model or another file); only graph models are read");
            }

            if (!root.TryGetProperty("modelTopology", out JsonElement topology) || !topology.TryGetProperty("node", out JsonElement nodeArray))
            {
                throw new InvalidDataException($"{modelJson}: no 'modelTopology.node' array");
            }

            if (topology.TryGetProperty("library", out JsonElement library) && library.TryGetProperty("function", out JsonElement functions) && functions.GetArrayLength() > 0)
            {
                throw new InvalidDataException($"{modelJson}: the graph has {functions.GetArrayLength()} functions (control flow); only plain graphs are read");
            }

            var nodes = new List<TfjsNode>();
            foreach (JsonElement n in nodeArray.EnumerateArray())
            {
                string name = n.GetProperty("name").GetString()!;
                string op = n.GetProperty("op").GetString()!;
                string[] inputs = n.TryGetProperty("input", out JsonElement ins)
                    ? ins.EnumerateArray().Select(i => i.GetString()!).Where(i => !i.StartsWith('^')).ToArray()
                    : [];
                JsonElement attr = n.TryGetProperty("attr", out JsonElement a) ? a.Clone() : default;
                nodes.Add(new TfjsNode(name, op, inputs, attr));
            }

            Dictionary<string, TfjsWeight> weights = ReadWeights(modelJson, root);
            TfjsNode[] placeholders = nodes.Where(n => n.Op == "Placeholder").ToArray();
            if (placeholders.Length != 1)
            {
                throw new InvalidDataException($"{modelJson}: {placeholders.Length} Placeholder nodes; exactly one input is supported");
            }

            var outputs = new List<(string, string)>();
            // The signature sits at the top level, or (older converters) in userDefinedMetadata.
            if ((root.TryGetProperty("signature", out JsonElement signature)
                    || (root.TryGetProperty("userDefinedMetadata", out JsonElement meta) && meta.TryGetProperty("signature", out signature)))
                && signature.TryGetProperty("outputs", out JsonElement outs))
            {
                foreach (JsonProperty o in outs.EnumerateObject())
                {
                    string tensor = o.Value.GetProperty("name").GetString()!;
                    outputs.Add((o.Name.Replace(":0", "", StringComparison.Ordinal), StripIndex(tensor, modelJson)));
                }
            }

            if (outputs.Count == 0)
            {
                throw new InvalidDataException($"{modelJson}: no 'signature.outputs'; the outputs of the graph are not named");
            }

            return new TfjsGraph(modelJson, nodes, weights, [.. outputs], (placeholders[0].Name, placeholders[0].PlaceholderShape() ?? []));
        }
    }

    /// <summary>"node:0" → "node"; other output indices are refused (every supported op has one output).</summary>
    public static string StripIndex(string tensor, string file)
    {
        int colon = tensor.LastIndexOf(':');
        if (colon < 0)
        {
            return tensor;
        }

        if (tensor[(colon + 1)..] != "0")
        {
            throw new InvalidDataException($"{file}: '{tensor}' reads output {tensor[(colon + 1)..]} of a node; only single-output ops are supported");
        }

        return tensor[..colon];
    }

    private static Dictionary<string, TfjsWeight> ReadWeights(string modelJson, JsonElement root)
    {
        var weights = new Dictionary<string, TfjsWeight>(StringComparer.Ordinal);
        if (!root.TryGetProperty("weightsManifest", out JsonElement manifest))
        {
            throw new InvalidDataException($"{modelJson}: no 'weightsManifest'");
        }

        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelJson))!;
        int groupIndex = 0;
        foreach (JsonElement group in manifest.EnumerateArray())
        {
            // A group's shards are one byte stream, its weights laid out back to back.
            using var stream = new MemoryStream();
            foreach (JsonElement p in group.GetProperty("paths").EnumerateArray())
            {
                string shard = System.IO.Path.Combine(dir, p.GetString()!);
                if (!File.Exists(shard))
                {
                    throw new FileNotFoundException($"{modelJson}: weight shard '{p.GetString()}' of weightsManifest[{groupIndex}] not found at {shard}", shard);
                }

                byte[] bytes = File.ReadAllBytes(shard);
                stream.Write(bytes, 0, bytes.Length);
            }

            byte[] data = stream.ToArray();
            int offset = 0;
            foreach (JsonElement w in group.GetProperty("weights").EnumerateArray())
            {
                string name = w.GetProperty("name").GetString()!;
                long[] shape = [.. w.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
                string dtype = w.GetProperty("dtype").GetString()!;
                long count = shape.Aggregate(1L, (a, b) => a * b);
                string stored = dtype;
                double scale = 1, min = 0;
                if (w.TryGetProperty("quantization", out JsonElement q))
                {
                    stored = q.GetProperty("dtype").GetString()!;
                    if (q.TryGetProperty("scale", out JsonElement s))
                    {
                        scale = s.GetDouble();
                    }

                    if (q.TryGetProperty("min", out JsonElement m))
                    {
                        min = m.GetDouble();
                    }
                }

                int size = stored switch
                {
                    "float32" or "int32" => 4,
                    "float16" or "uint16" => 2,
                    "uint8" => 1,
                    _ => throw new InvalidDataException($"{modelJson}: weight '{name}' has dtype '{stored}'; float32, int32, float16, uint16 and uint8 are supported"),
                };
                long bytesNeeded = count * size;
                if (offset + bytesNeeded > data.Length)
                {
                    throw new InvalidDataException($"{modelJson}: weight '{name}' needs bytes {offset}..{offset + bytesNeeded} but the shards of weightsManifest[{groupIndex}] hold {data.Length} (truncated)");
                }

                ReadOnlySpan<byte> span = data.AsSpan(offset, (int)bytesNeeded);
                offset += (int)bytesNeeded;
                if (dtype == "int32")
                {
                    if (stored != "int32")
                    {
                        throw new InvalidDataException($"{modelJson}: int32 weight '{name}' is quantised as {stored}; not supported");
                    }

                    weights[name] = new TfjsWeight(name, shape, null, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(span).ToArray());
                    continue;
                }

                if (dtype != "float32")
                {
                    throw new InvalidDataException($"{modelJson}: weight '{name}' has dtype '{dtype}'; float32 and int32 are supported");
                }

                var floats = new float[count];
                switch (stored)
                {
                    case "float32":
                        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).CopyTo(floats);
                        break;
                    case "float16":
                        ReadOnlySpan<Half> halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(span);
                        for (int i = 0; i < floats.Length; i++)
                        {
                            floats[i] = (float)halves[i];
                        }

                        break;
                    case "uint16":
                        ReadOnlySpan<ushort> shorts = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(span);
                        for (int i = 0; i < floats.Length; i++)
                        {
                            floats[i] = (float)((shorts[i] * scale) + min);
                        }

                        break;
                    default:
                        for (int i = 0; i < floats.Length; i++)
                        {
                            floats[i] = (float)((span[i] * scale) + min);
                        }

                        break;
                }

                weights[name] = new TfjsWeight(name, shape, floats, null);
            }

            if (offset != data.Length)
            {
                throw new InvalidDataException($"{modelJson}: the shards of weightsManifest[{groupIndex}] hold {data.Length} bytes but its weights use {offset}");
            }

            groupIndex++;
        }

        return weights;
    }
}
