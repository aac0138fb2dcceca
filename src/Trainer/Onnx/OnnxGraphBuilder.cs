using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using HeadTracking.Trainer.Onnx.Proto;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Onnx;

/// <summary>Export settings that emitters may consult.</summary>
internal sealed record OnnxExportOptions
{
    /// <summary>Fold each BatchNorm that directly follows a Conv into the Conv's weights.</summary>
    public bool FoldBatchNorm { get; init; }
}

/// <summary>
/// Builds an ONNX graph (opset 17) while emitters walk a TorchSharp module tree. Values get unique
/// names; parameters become initializers named by their state_dict path, so an exported file can
/// be imported back by name. Module paths are tracked through <see cref="Emit(Module, string, string)"/>.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const int Opset = 17;

    private readonly List<string> _scope = [];
    private readonly HashSet<string> _initializerNames = [];
    private readonly Dictionary<IntPtr, string> _emittedParameters = [];
    private int _counter;

    public OnnxGraphBuilder(OnnxExportOptions options)
    {
        Options = options;
    }

    public OnnxExportOptions Options { get; }

    public GraphProto Graph { get; } = new() { Name = "headtracker" };

    /// <summary>The state_dict path of the module being emitted, e.g. "backbone.layer1.0".</summary>
    public string Path => string.Join(".", _scope);

    /// <summary>Emits a child module with one input and one output; <paramref name="name"/> is its
    /// attribute name in the parent (its state_dict path segment).</summary>
    public string Emit(Module module, string input, string name) => Emit(module, [input], name).Single();

    /// <summary>Emits a child module with any number of inputs and outputs.</summary>
    /// <exception cref="NotSupportedException">No emitter knows the module's type; the message
    /// names the type and its path.</exception>
    public string[] Emit(Module module, string[] inputs, string name)
    {
        if (name.Length > 0)
        {
            _scope.Add(name);
        }

        try
        {
            if (module is IOnnxExportable exportable)
            {
                return exportable.EmitOnnx(this, inputs);
            }

            IModuleEmitter emitter = ModuleEmitters.Find(module.GetType())
                ?? throw new NotSupportedException($"cannot export layer '{Path}' of type {module.GetType().Name}: no ONNX emitter is registered for it (layers with emitters: {string.Join(", ", ModuleEmitters.SupportedTypes)})");
            return [emitter.Emit(this, module, inputs.Single())];
        }
        finally
        {
            if (name.Length > 0)
            {
                _scope.RemoveAt(_scope.Count - 1);
            }
        }
    }

    /// <summary>Enters the scope of a child named <paramref name="name"/> until disposed, for
    /// emitters that write a child's nodes themselves (a folded Conv+BatchNorm, say).</summary>
    public IDisposable Scope(string name)
    {
        _scope.Add(name);
        return new ScopeExit(_scope);
    }

    private sealed class ScopeExit(List<string> scope) : IDisposable
    {
        public void Dispose() => scope.RemoveAt(scope.Count - 1);
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string opType, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        int id = _counter++;
        string stem = (_scope.Count > 0 ? Path + "/" : "") + opType + "_" + id;
        var node = new NodeProto { OpType = opType, Name = stem };
        node.Input.AddRange(inputs);
        string[] names = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? stem : $"{stem}:{i}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds a parameter or buffer as an initializer named "{Path}.{name}" (its state_dict
    /// name) and returns that name. The same tensor emitted twice is stored once.</summary>
    public string Parameter(Tensor tensor, string name)
    {
        if (_emittedParameters.TryGetValue(tensor.Handle, out string? existing))
        {
            return existing;
        }

        string full = _scope.Count > 0 ? Path + "." + name : name;
        AddInitializer(full, tensor);
        _emittedParameters[tensor.Handle] = full;
        return full;
    }

    /// <summary>Adds a derived tensor (a folded weight, say) under "{Path}.{name}".</summary>
    public string Derived(Tensor tensor, string name)
    {
        string full = _scope.Count > 0 ? Path + "." + name : name;
        AddInitializer(full, tensor);
        return full;
    }

    /// <summary>A constant int64 tensor (shapes, axes, pads) as an initializer.</summary>
    public string ConstantInt64(params long[] values)
    {
        string name = $"const_{_counter++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        Graph.Initializer.Add(proto);
        _initializerNames.Add(name);
        return name;
    }

    /// <summary>A constant float tensor of the given shape as an initializer.</summary>
    public string ConstantFloat(long[] shape, params float[] values)
    {
        string name = $"const_{_counter++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(shape);
        proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(proto);
        _initializerNames.Add(name);
        return name;
    }

    public static AttributeProto Attr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>An INTS attribute (even of one value: Attr(name, 1L) would be an INT).</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private void AddInitializer(string name, Tensor tensor)
    {
        if (!_initializerNames.Add(name))
        {
            throw new InvalidOperationException($"two initializers named '{name}'");
        }

        using var scope = NewDisposeScope();
        Tensor t = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        float[] data = t.data<float>().ToArray();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(t.shape);
        proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        Graph.Initializer.Add(proto);
    }
}
