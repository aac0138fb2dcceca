using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using HeadTracking.Trainer.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Onnx;

/// <summary>One float initializer read from an ONNX file.</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[] Data)
{
    public string Shape => $"[{string.Join(",", Dims)}]";
}

/// <summary>What loading weights into a module did: which module tensors were filled, which had no
/// source, which sources did not fit, and which file tensors nothing used.</summary>
internal sealed record ImportReport(
    IReadOnlyList<string> Matched,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> ShapeMismatched,
    IReadOnlyList<string> Unused)
{
    public bool IsComplete => Missing.Count == 0 && ShapeMismatched.Count == 0;

    public override string ToString() =>
        $"{Matched.Count} matched, {Missing.Count} missing, {ShapeMismatched.Count} shape-mismatched, {Unused.Count} unused in the file";
}

/// <summary>Reads an ONNX file's float initializers and loads them into TorchSharp modules.</summary>
internal static class OnnxWeights
{
    /// <summary>Every float initializer of the file, by name.</summary>
    /// <exception cref="InvalidDataException">The file is not ONNX, or a tensor's data does not
    /// match its shape; the message names the file and the tensor.</exception>
    public static Dictionary<string, OnnxTensor> Read(string path)
    {
        ModelProto model = OnnxFile.Load(path);
        var result = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (TensorProto t in model.Graph.Initializer)
        {
            if (t.DataType != (int)TensorProto.Types.DataType.Float)
            {
                continue;
            }

            long count = t.Dims.Aggregate(1L, (a, d) => a * d);
            float[] data;
            if (t.RawData.Length > 0)
            {
                if (t.RawData.Length != count * sizeof(float))
                {
                    throw new InvalidDataException($"{path}: initializer '{t.Name}' of shape [{string.Join(",", t.Dims)}] holds {t.RawData.Length} bytes, expected {count * sizeof(float)}");
                }

                data = MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
            }
            else
            {
                if (t.FloatData.Count != count)
                {
                    throw new InvalidDataException($"{path}: initializer '{t.Name}' of shape [{string.Join(",", t.Dims)}] holds {t.FloatData.Count} values, expected {count}");
                }

                data = [.. t.FloatData];
            }

            result[t.Name] = new OnnxTensor(t.Name, [.. t.Dims], data);
        }

        return result;
    }

    /// <summary>
    /// Copies file tensors into the module's parameters and buffers. <paramref name="nameMap"/>
    /// maps state_dict names to file names; without it the names must be equal (files we exported).
    /// In strict mode nothing is copied unless every module tensor has a source of the right shape.
    /// </summary>
    /// <exception cref="InvalidDataException">Strict mode and a tensor is missing or of the wrong
    /// shape; the message names the file and the tensors.</exception>
    public static ImportReport Load(Module module, string path, IReadOnlyDictionary<string, string>? nameMap = null, bool strict = true)
    {
        Dictionary<string, OnnxTensor> file = Read(path);
        var matched = new List<(Tensor Target, OnnxTensor Source, string Name)>();
        var missing = new List<string>();
        var mismatched = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);

        foreach ((string name, Tensor target) in module.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                continue; // a training counter, not a weight; never exported
            }

            string? source = nameMap == null ? name : nameMap.GetValueOrDefault(name);
            if (source == null || !file.TryGetValue(source, out OnnxTensor? tensor))
            {
                missing.Add(source == null || source == name ? name : $"{name} (from '{source}')");
                continue;
            }

            used.Add(source);
            if (!tensor.Dims.SequenceEqual(target.shape))
            {
                mismatched.Add($"{name}: module [{string.Join(",", target.shape)}], file '{source}' {tensor.Shape}");
                continue;
            }

            matched.Add((target, tensor, name));
        }

        var report = new ImportReport(
            matched.Select(m => m.Name).ToList(), missing, mismatched,
            file.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToList());
        if (strict && !report.IsComplete)
        {
            string detail = string.Join("; ", mismatched.Concat(missing.Select(m => $"{m}: not in the file")).Take(8));
            throw new InvalidDataException($"{path}: cannot load weights ({report}): {detail}");
        }

        using (no_grad())
        {
            foreach ((Tensor target, OnnxTensor source, _) in matched)
            {
                using Tensor value = tensor(source.Data, source.Dims, dtype: target.dtype);
                target.copy_(value);
            }
        }

        return report;
    }
}
